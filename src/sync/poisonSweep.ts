// Use case: what the host moved to the poison queues. The host gives up on a message after maxDequeueCount
// failed invocations; those are crashes (an outage of storage, say), not back-office answers, so a change that
// can be read is not failed at once: each of its connectors gets it again from the retry queue, on the retry
// schedule, until the retry horizon. What cannot be read is recorded as failed and removed.
import { appointmentChangeSchema } from '../model/appointmentChange';
import { recoveryPageSchema } from '../model/recovery';
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
/** A recovery page the host gave up on goes back this many times (a minute later each) before it is dropped. */
const MAX_PAGE_REQUEUES = 10;

export async function sweepPoison(
  deps: SyncDeps,
  queues: Record<'changes' | 'retries' | 'recoveries', string>,
  log: Logger,
): Promise<number> {
  let handled = 0;
  for (const source of ['changes', 'retries', 'recoveries'] as const) {
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
  source: 'changes' | 'retries' | 'recoveries',
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
  if (source === 'recoveries') return requeuePage(deps, value, reason, log);
  if (source === 'changes') {
    const change = appointmentChangeSchema.safeParse(value);
    if (!change.success) return deps.deliveries.recordUnreadable(message.text, reason, log, 'sync.poisoned');
    const connectors = connectorsFor(change.data, await deps.connectorsOf(change.data.appointment.sourceApp));
    if (connectors.length === 0) return recordNoConnector(deps, change.data, null, log);
    for (const connector of connectors) {
      const base = rowBase(connector, change.data, { traceId: null });
      const row = await deps.deliveries.findRow(base);
      if (row && (row.value.status === 'delivered' || row.value.status === 'duplicate' || row.value.status === 'stale'))
        continue;
      await again(
        deps,
        {
          connector,
          change: change.data,
          attempt: row?.value.attempts ?? 0,
          firstAttemptAt: row ? Date.parse(row.value.createdAt) : deps.now(),
          enqueuedAt: row ? Date.parse(row.value.createdAt) : deps.now(),
          mode: 'retry',
          fresh: false,
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
  await again(
    deps,
    {
      ...rest,
      enqueuedAt: rest.enqueuedAt ?? rest.firstAttemptAt,
      connector,
      change,
      fresh: false,
      base: rowBase(connector, change, { traceId: null }),
      log,
    },
    reason,
  );
}

/** The crash counts as an attempt: queued again on the retry schedule, or failed past the horizon. */
function again(deps: SyncDeps, p: PendingDelivery, reason: string): Promise<void> {
  return deps.settle.outcome(p, { kind: 'transient', code: 'sync.poisoned', message: reason, durationMs: 0 });
}

/** A page of a recovery that crashed (storage out, say) is read again a minute later, a few times. */
async function requeuePage(deps: SyncDeps, value: unknown, reason: string, log: Logger): Promise<void> {
  const page = recoveryPageSchema.safeParse(value);
  if (!page.success) return log.error('recovery.page-unreadable', { reason });
  if (page.data.requeued >= MAX_PAGE_REQUEUES)
    return log.error('recovery.page-abandoned', { recoveryId: page.data.recoveryId, page: page.data.page, reason });
  log.warn('recovery.page-requeued', { recoveryId: page.data.recoveryId, page: page.data.page, reason });
  await deps.queues.sendRecoveryPage({ ...page.data, requeued: page.data.requeued + 1 }, 60);
}
