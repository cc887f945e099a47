// Use case: one delivery from the retry queue (a retry, a replay, a recovery, a deferred change).
//   read it -> look the connector up again (it may be gone, disabled or changed) -> skip it or send it
import { type WorkItem, workItemSchema } from '../model/workItem';
import type { Logger } from '../platform/logging';
import { rowBase } from './deliveryLog';
import { readOrRecord, type SyncDeps } from './deps';
import { deliverOrSkip, type QueueMessage } from './handleChange';

export async function handleWorkItem(deps: SyncDeps, message: QueueMessage, log: Logger): Promise<void> {
  const item = await readOrRecord(deps, workItemSchema, message, log);
  if (!item) return;
  const itemLog = log.child({ messageId: item.change.messageId });
  const connector = await deps.connectorById(item.connectorId);
  if (!connector) return recordConnectorGone(deps, item, message.traceId, itemLog);
  await deliverOrSkip(deps, {
    connector,
    change: item.change,
    attempt: item.attempt,
    firstAttemptAt: item.firstAttemptAt,
    mode: item.mode,
    recoveryId: item.recoveryId,
    base: rowBase(connector, item.change, { traceId: message.traceId }),
    log: itemLog,
  });
}

async function recordConnectorGone(deps: SyncDeps, item: WorkItem, traceId: string | null, log: Logger) {
  await deps.deliveries.record(rowBase(null, item.change, { traceId, connectorId: item.connectorId }), 'failed', log, {
    code: 'sync.connector-deleted',
    message: 'the connector was deleted before this delivery',
  });
}
