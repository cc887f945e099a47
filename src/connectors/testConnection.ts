// Use case: test a connector's connection: its credentials, a token (OAuth), one harmless request.

import { auditing } from '../audit/auditTrail';
import type { CallContext } from '../model/audit';
import { helpFor } from '../model/codes';
import type { Diagnosis } from '../model/diagnosis';
import { notCounting } from '../platform/deadline';
import { NotFoundError } from '../platform/errors';
import type { Logger } from '../platform/logging';
import { resolveTarget, SecretMissingError } from './connectorTarget';
import type { ConnectorDeps } from './deps';

export function testConnection(deps: ConnectorDeps, id: string, call: CallContext, log: Logger): Promise<Diagnosis> {
  return auditing(
    deps.audit,
    call,
    log,
    { operation: 'connector.test', resourceType: 'connector', resourceId: id },
    async () => {
      const found = await deps.store.get(id);
      if (!found) throw new NotFoundError(`Connector ${id} does not exist.`);
      const diagnosis = await diagnose(deps, found.value);
      // Health shows the latest test; a failure to note it does not change what the test found.
      await deps.health
        .recordTest(id, { ok: diagnosis.ok, code: diagnosis.code })
        .catch((error: unknown) => log.warn('health.test-not-recorded', { connectorId: id, error }));
      log.info('connector.tested', { connectorId: id, sourceApp: found.value.sourceApp, ...diagnosis });
      return {
        value: diagnosis,
        resourceId: id,
        outcome: diagnosis.ok ? 'succeeded' : 'failed',
        detail: diagnosis.code,
      };
    },
  );
}

async function diagnose(deps: ConnectorDeps, connector: Parameters<typeof resolveTarget>[0]): Promise<Diagnosis> {
  const started = performance.now();
  try {
    const target = await resolveTarget(connector, deps.secrets);
    // The back office has its own timeouts; waiting on it is what a connection test is for.
    return await notCounting(() => deps.backOffice.test(target));
  } catch (error) {
    if (!(error instanceof SecretMissingError)) throw error;
    return {
      ok: false,
      stage: 'credentials',
      status: null,
      code: 'config.secret-missing',
      message: error.message,
      help: helpFor('config.secret-missing'),
      durationMs: Math.round(performance.now() - started),
    };
  }
}
