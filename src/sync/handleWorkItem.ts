// Use case: one delivery from the retry queue (a retry, a replay, a recovery, a deferred change).
//   read it -> look the connector up again (it may be gone, disabled or changed) -> skip it or send it
import { workItemSchema } from '../model/workItem';
import type { Logger } from '../platform/logging';
import { rowBase } from './deliveryLog';
import { readOrRecord, type SyncDeps } from './deps';
import { deliverOrSkip, type QueueMessage } from './handleChange';

export async function handleWorkItem(deps: SyncDeps, message: QueueMessage, log: Logger): Promise<void> {
  const item = await readOrRecord(deps, workItemSchema, message, log);
  if (!item) return;
  const itemLog = log.child({ messageId: item.change.messageId });
  // The connectors of the change's source app are cached: a page of a recovery reads them once, not per change.
  // The cache must not be older than the work item (a connector fixed before its recovery began is seen as
  // fixed). One that is not among them was moved or deleted: read it on its own.
  const ofSourceApp = await deps.connectorsOf(item.change.appointment.sourceApp, { loadedAfter: item.firstAttemptAt });
  const connector = ofSourceApp.find((c) => c.id === item.connectorId) ?? (await deps.connectorById(item.connectorId));
  if (!connector)
    return deps.settle.connectorGone(
      item,
      rowBase(null, item.change, { traceId: message.traceId, connectorId: item.connectorId }),
      itemLog,
    );
  await deliverOrSkip(deps, {
    connector,
    change: item.change,
    attempt: item.attempt,
    firstAttemptAt: item.firstAttemptAt,
    enqueuedAt: item.enqueuedAt ?? item.firstAttemptAt,
    mode: item.mode,
    recoveryId: item.recoveryId,
    fresh: false,
    base: rowBase(connector, item.change, { traceId: message.traceId }),
    log: itemLog,
  });
}
