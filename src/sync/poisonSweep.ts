// Use case: what the host moved to the poison queues. The host gives up on a message after maxDequeueCount
// failed invocations; those are crashes (an outage of storage, say), not back-office answers, so a change that
// can be read is not failed at once: each of its connectors gets it again from the retry queue, on the retry
// schedule, until the retry horizon. What cannot be read is recorded as failed and removed.
import { appointmentChangeSchema } from '../model/appointmentChange';
import { workItemSchema } from '../model/workItem';
import type { Logger } from '../platform/logging';
import { poisonQueueName } from '../platform/resourceNames';
import type { PoisonedMessage } from '../queues/syncQueues';
import { rowBase } from './deliveryLog';
import type { SyncDeps } from './deps';
import { recordNoConnector } from './handleChange';
import type { PendingDelivery } from './pending';
import { connectorsFor } from './routing';

const MAX_PER_SWEEP = 320;

export async function sweepPoison(
  deps: SyncDeps,
  queues: Record<'changes' | 'retries', string>,
  log: Logger,
): Promise<number> {
  let handled = 0;
  for (const source of ['changes', 'retries'] as const) {
    while (handled < MAX_PER_SWEEP) {
      const batch = await deps.queues.receivePoisoned(source, 32);
      if (batch.length === 0) break;
      for (const message of batch) {
        await handlePoisoned(deps, source, poisonQueueName(queues[source]), message, log);
        await message.remove();
        handled++;
      }
    }
  }
  return handled;
}

async function handlePoisoned(
  deps: SyncDeps,
  source: 'changes' | 'retries',
  poisonQueue: string,
  message: PoisonedMessage,
  log: Logger,
): Promise<void> {
  if (message.text === null)
    return deps.deliveries.recordUnreadable(
      message.raw,
      'the message is not base64-encoded JSON, so the host could not hand it to the function',
      log,
      'sync.poisoned',
    );
  let value: unknown;
  try {
    value = JSON.parse(message.text);
  } catch {
    value = message.text;
  }
  const reason = `processing failed until the host moved it to ${poisonQueue} after maxDequeueCount attempts (a crash, not a back-office answer)`;
  if (source === 'changes') {
    const change = appointmentChangeSchema.safeParse(value);
    if (!change.success) return deps.deliveries.recordUnreadable(message.text, reason, log, 'sync.poisoned');
    const connectors = connectorsFor(change.data, await deps.connectorsOf(change.data.appointment.sourceApp));
    if (connectors.length === 0) return recordNoConnector(deps, change.data, null, log);
    for (const connector of connectors) {
      const base = rowBase(connector, change.data, { traceId: null });
      const row = await deps.deliveries.find(base.id);
      if (row && (row.value.status === 'delivered' || row.value.status === 'duplicate' || row.value.status === 'stale'))
        continue;
      await again(
        deps,
        {
          connector,
          change: change.data,
          attempt: row?.value.attempts ?? 0,
          firstAttemptAt: row ? Date.parse(row.value.createdAt) : deps.now(),
          mode: 'retry',
          base,
          log,
        },
        reason,
      );
    }
    return;
  }
  const item = workItemSchema.safeParse(value);
  if (!item.success) return deps.deliveries.recordUnreadable(message.text, reason, log, 'sync.poisoned');
  const connector = await deps.connectorById(item.data.connectorId);
  if (!connector) return;
  const { change, ...rest } = item.data;
  await again(deps, { ...rest, connector, change, base: rowBase(connector, change, { traceId: null }), log }, reason);
}

/** The crash counts as an attempt: queued again on the retry schedule, or failed past the horizon. */
function again(deps: SyncDeps, p: PendingDelivery, reason: string): Promise<void> {
  return deps.settle.outcome(p, { kind: 'transient', code: 'sync.poisoned', message: reason, durationMs: 0 });
}
