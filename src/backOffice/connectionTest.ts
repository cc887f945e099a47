// Use case: test a connector's connection (credentials, token, one harmless request).
import type { ConnectorStore } from '../connectors/connectorStore';
import { resolveTarget, SecretMissingError } from '../connectors/connectorTarget';
import { NotFoundError } from '../platform/errors';
import type { Logger } from '../platform/logging';
import type { SecretStore } from '../secrets/secretStore';
import type { BackOfficeClient, Diagnosis } from './backOfficeClient';

export function createConnectionTester(deps: {
  store: ConnectorStore;
  secrets: SecretStore;
  backOffice: BackOfficeClient;
}) {
  return async (id: string, log: Logger): Promise<Diagnosis> => {
    const found = await deps.store.get(id);
    if (!found) throw new NotFoundError(`Connector ${id} does not exist.`);
    const started = performance.now();
    let diagnosis: Diagnosis;
    try {
      diagnosis = await deps.backOffice.test(await resolveTarget(found.connector, deps.secrets));
    } catch (error) {
      if (!(error instanceof SecretMissingError)) throw error;
      diagnosis = {
        ok: false,
        stage: 'credentials',
        status: null,
        code: 'config.secret-missing',
        message: error.message,
        durationMs: Math.round(performance.now() - started),
      };
    }
    log.info('connector.tested', { connectorId: id, sourceApp: found.connector.sourceApp, ...diagnosis });
    return diagnosis;
  };
}
