// Blank credentials mean the app's managed identity: @azure/identity's ManagedIdentityCredential, here against
// the App Service / Functions identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER) served by the Entra fake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackOfficeClient } from '../../src/backOffice/backOfficeClient';
import { createOutboundHttp } from '../../src/backOffice/outboundHttp';
import type { BackOfficeTarget as ConnectorTarget } from '../../src/backOffice/target';
import { createTokenService } from '../../src/backOffice/tokens';
import { buildPushBody } from '../../src/model/pushBody';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { TENANT } from '../fakes/demoTenant';
import { decodeJwt, EntraFake } from '../fakes/entraFake';
import { sampleChange } from '../support/changes';

let entra: EntraFake;
let bc: BusinessCentralFake;

beforeAll(async () => {
  entra = new EntraFake();
  entra.managedIdentity.tenant = TENANT;
  await entra.start();
  bc = new BusinessCentralFake().registerApp(TENANT, entra.managedIdentity.clientId);
  await bc.start();
  process.env.IDENTITY_ENDPOINT = `${entra.url}/msi/token`;
  process.env.IDENTITY_HEADER = entra.managedIdentity.header;
});
afterAll(async () => {
  delete process.env.IDENTITY_ENDPOINT;
  delete process.env.IDENTITY_HEADER;
  await entra.stop();
  await bc.stop();
});

const target = (): ConnectorTarget => ({
  id: 'mi',
  backOffice: 'bc-online',
  apiType: 'rest',
  authType: 'managed-identity',
  webServiceUri: `${bc.url}/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
  login: null,
  secret: null,
});

describe('managed identity', () => {
  it('delivers with the identity named by AZURE_CLIENT_ID, for the Business Central audience, and caches the token', async () => {
    const client = createBackOfficeClient({
      http: createOutboundHttp({ allowLoopback: true }),
      tokens: createTokenService({
        entraAuthorityHost: entra.url,
        managedIdentityClientId: entra.managedIdentity.clientId,
      }),
    });
    for (let i = 0; i < 5; i++)
      expect((await client.deliver(target(), buildPushBody('mi', sampleChange()))).kind).toBe('delivered');
    expect(entra.managedIdentity.requests).toBe(1);
    const claims = decodeJwt(bc.requests.at(-1)!.headers.authorization!.replace('Bearer ', ''));
    expect(claims).toMatchObject({
      aud: 'https://api.businesscentral.dynamics.com',
      appid: entra.managedIdentity.clientId,
    });
  });

  it('reports a wrong identity as auth.managed-identity-failed', async () => {
    const client = createBackOfficeClient({
      http: createOutboundHttp({ allowLoopback: true }),
      tokens: createTokenService({
        entraAuthorityHost: entra.url,
        managedIdentityClientId: '00000000-0000-0000-0000-00000000dead',
      }),
    });
    const d = await client.test(target());
    expect(d).toMatchObject({ ok: false, stage: 'token', code: 'auth.managed-identity-failed' });
  });
});

describe('managed identity faults', () => {
  const clientFor = () =>
    createBackOfficeClient({
      http: createOutboundHttp({ allowLoopback: true }),
      tokens: createTokenService({
        entraAuthorityHost: entra.url,
        managedIdentityClientId: entra.managedIdentity.clientId,
      }),
    });

  it('gets a fresh token after a 401, instead of sending the cached one again', async () => {
    const client = clientFor();
    expect((await client.deliver(target(), buildPushBody('mi', sampleChange()))).kind).toBe('delivered');
    const before = entra.managedIdentity.requests;
    bc.rejectBearer = 1;
    expect((await client.deliver(target(), buildPushBody('mi', sampleChange()))).kind).toBe('delivered');
    expect(entra.managedIdentity.requests - before).toBe(1);
    const [first, second] = bc.requests.slice(-2).map((r) => r.headers.authorization);
    expect(second).not.toBe(first);
  });

  it('treats an identity endpoint that fails as transient, and one that refuses the identity as permanent', async () => {
    const client = clientFor();
    expect((await client.deliver(target(), buildPushBody('mi', sampleChange()))).kind).toBe('delivered');
    entra.managedIdentity.failWith = { status: 503, times: 100 };
    bc.rejectBearer = 1; // the cached token is refused: a fresh one is needed while the endpoint is down
    try {
      const outage = await client.deliver(target(), buildPushBody('mi', sampleChange()));
      expect(outage).toMatchObject({ kind: 'transient', code: 'auth.managed-identity-unavailable' });
    } finally {
      entra.managedIdentity.failWith = undefined;
    }
    const wrong = createBackOfficeClient({
      http: createOutboundHttp({ allowLoopback: true }),
      tokens: createTokenService({
        entraAuthorityHost: entra.url,
        managedIdentityClientId: '00000000-0000-0000-0000-00000000dead',
      }),
    });
    expect(await wrong.deliver(target(), buildPushBody('mi', sampleChange()))).toMatchObject({
      kind: 'permanent',
      code: 'auth.managed-identity-failed',
    });
  }, 60_000);
});
