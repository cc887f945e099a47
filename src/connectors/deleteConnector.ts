// Use case: delete a connector.
//   read -> If-Match -> soft-delete the secret -> delete the record, conditional on the version read (the
//   commit; the secret is recovered if it fails) -> remove the route (a leftover is ignored: no record)
// Without If-Match the delete is unconditional for the caller: a concurrent change makes it read and try again.
import { auditing } from '../audit/auditTrail';
import type { CallContext } from '../model/audit';
import { NotFoundError, PreconditionFailedError } from '../platform/errors';
import { ensureIfMatch } from '../platform/etag';
import type { Logger } from '../platform/logging';
import { type ConnectorDeps, MAX_UNCONDITIONAL_ROUNDS, undo } from './deps';

export function deleteConnector(
  deps: ConnectorDeps,
  id: string,
  ifMatch: string | undefined,
  call: CallContext,
  log: Logger,
): Promise<void> {
  return auditing(
    deps.audit,
    call,
    log,
    { operation: 'connector.delete', resourceType: 'connector', resourceId: id },
    async () => {
      for (let round = 1; ; round++) {
        try {
          await deleteOnce(deps, id, ifMatch, log);
          return { value: undefined, resourceId: id };
        } catch (error) {
          const retry =
            error instanceof PreconditionFailedError && ifMatch === undefined && round < MAX_UNCONDITIONAL_ROUNDS;
          if (!retry) throw error;
        }
      }
    },
  );
}

async function deleteOnce(deps: ConnectorDeps, id: string, ifMatch: string | undefined, log: Logger): Promise<void> {
  const existing = await deps.store.get(id);
  if (!existing) throw new NotFoundError(`Connector ${id} does not exist.`);
  ensureIfMatch(ifMatch, existing.etag, `Connector ${id}`);
  const connector = existing.value;
  if (connector.secretName) await deps.secrets.delete(connector.secretName);
  try {
    await deps.store.deleteRecord(id, existing.etag);
  } catch (error) {
    if (connector.secretName)
      await undo(log, id, 'recover the secret', () => deps.secrets.recover(connector.secretName!));
    throw error;
  }
  await undo(log, id, 'remove the route', () => deps.store.deleteRoute(connector.sourceApp, id));
  await deps.health.forget(id).catch((error: unknown) => log.warn('health.not-removed', { connectorId: id, error }));
  log.info('connector.deleted', { connectorId: id, sourceApp: connector.sourceApp });
}
