// A stored connector plus its secret from Key Vault: what the back-office adapters need.
import type { ConnectorTarget } from '../backOffice/backOfficeClient';
import type { SecretStore } from '../secrets/secretStore';
import type { StoredConnector } from './connectorStore';

export class SecretMissingError extends Error {
  override readonly name = 'SecretMissingError';
}

export async function resolveTarget(connector: StoredConnector, secrets: SecretStore): Promise<ConnectorTarget> {
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
