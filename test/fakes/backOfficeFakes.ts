// The Entra and Business Central fakes started together, with the demo tenant's app registered and enabled
// on both and one on-premises Basic user.
import { BusinessCentralFake } from './businessCentralFake';
import { CLIENT, TENANT } from './demoTenant';
import { EntraFake } from './entraFake';

export interface BackOfficeFakes {
  entra: EntraFake;
  bc: BusinessCentralFake;
  stop(): Promise<void>;
}

export async function startBackOfficeFakes(
  credentials: { clientSecret: string; user: string; accessKey: string },
  ports: { entra?: number; bc?: number } = {},
): Promise<BackOfficeFakes> {
  const entra = new EntraFake().register(TENANT, CLIENT, credentials.clientSecret);
  const bc = new BusinessCentralFake().registerApp(TENANT, CLIENT);
  bc.basicUsers.set(credentials.user, credentials.accessKey);
  await entra.http.listen(ports.entra ?? 0);
  await bc.http.listen(ports.bc ?? 0);
  return {
    entra,
    bc,
    async stop() {
      await entra.stop();
      await bc.stop();
    },
  };
}
