// A stored connector plus its secret from Key Vault: the target the back-office adapters need.
import type { BackOfficeTarget } from '../backOffice/target';
import type { StoredConnector } from '../model/connector';
import type { SecretStore } from '../secrets/secretStore';

/** The connector says it has a secret, but Key Vault has no such version. */
export class SecretMissingError extends Error {
  override readonly name = 'SecretMissingError';
}

/** Reads the connector's secret (cached per version); a Key Vault outage rejects with a DependencyError. */
export async function resolveTarget(connector: StoredConnector, secrets: SecretStore): Promise<BackOfficeTarget> {
  let secret: string | null = null;
  if (connector.hasPassword) {
    if (!connector.secretName || !connector.secretVersion)
      throw new SecretMissingError(`connector ${connector.id} has no secret reference`);
    const value = await secrets.get({ name: connector.secretName, version: connector.secretVersion });
    if (value === undefined)
      throw new SecretMissingError(`the secret of connector ${connector.id} is missing from Key Vault`);
    secret = value;
  }
  return {
    id: connector.id,
    backOffice: connector.backOffice,
    apiType: connector.apiType,
    authType: connector.authType,
    webServiceUri: connector.webServiceUri,
    login: connector.login,
    secret,
  };
}
