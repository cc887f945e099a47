// How each way a delivery can end is written down: a row in the delivery log, and for a transient result or a
// spent budget, the change queued again for that connector alone.
import type { AttemptRecord, DeliveryStatus } from '../model/delivery';
import { isDelivered, type Outcome } from '../model/outcome';
import type { WorkItemMessage } from '../model/workItem';
import type { Logger } from '../platform/logging';
import { connectorAttributes, instruments, trace } from '../platform/telemetry';
import { type SyncQueues, whyTooLarge } from '../queues/syncQueues';
import { attemptOf, type DeliveryLog, detailsOf, type RowBase, type RowDetails, rowIdFor } from './deliveryLog';
import type { PendingDelivery } from './pending';
import type { DeferralReason } from './principalBudget';
import { nextRetryDelay, type RetryPolicy } from './retryPolicy';
import type { SendResult } from './sendToConnector';

/** Wait before looking again when an older revision of the same appointment is still in flight. */
export const ORDERING_WAIT_SECONDS = 2;

export interface SettleDeps {
  deliveries: DeliveryLog;
  queues: SyncQueues;
  policy: RetryPolicy;
  now(): number;
  /** Told every final status of a delivery that belongs to a recovery. */
  onSettled?(recoveryId: string, deliveryId: string, status: DeliveryStatus): Promise<void>;
}

/** The retry queue's message that sends this change to this connector again. */
export const workItemOf = (p: PendingDelivery, attempt: number): WorkItemMessage => ({
  kind: 'delivery',
  connectorId: p.connector.id,
  attempt,
  firstAttemptAt: p.firstAttemptAt,
  enqueuedAt: p.enqueuedAt,
  mode: p.mode,
  ...(p.recoveryId ? { recoveryId: p.recoveryId } : {}),
  change: p.change,
});

export function createSettler(deps: SettleDeps) {
  const settled = async (p: Pick<PendingDelivery, 'recoveryId' | 'base'>, status: DeliveryStatus) => {
    if (p.recoveryId && status !== 'retrying') await deps.onSettled?.(p.recoveryId, p.base.id, status);
  };

  /** The delivery's row, written: created outright when the delivery is fresh, read first when it is not. */
  const write = (p: PendingDelivery, status: DeliveryStatus, details: RowDetails, attempt?: AttemptRecord) =>
    deps.deliveries.record(p.base, status, p.log, details, attempt, recordOptions(p));

  /**
   * The row says `retrying` before the change is queued again: the next attempt may run (and settle the row)
   * before this invocation ends, and must never be overwritten by it. An invocation that dies in between is
   * retried from its own message, so the change is not lost.
   */
  async function retryLater(
    p: PendingDelivery,
    attempt: number,
    seconds: number,
    details: RowDetails,
    record?: AttemptRecord,
  ): Promise<void> {
    // A producer may put a change on the queue that fits once but not with what a retry adds: say so.
    const tooLarge = whyTooLarge(p.change);
    if (tooLarge) {
      await write(
        p,
        'failed',
        { ...details, code: 'sync.too-large', message: `cannot be retried: it ${tooLarge}` },
        record,
      );
      return settled(p, 'failed');
    }
    const nextAttemptAt = new Date(deps.now() + seconds * 1000).toISOString();
    await write(p, 'retrying', { ...details, nextAttemptAt }, record);
    await deps.queues.sendWorkItem(workItemOf(p, attempt), seconds);
  }

  const settler = {
    /** What the sender answered for this change, written down once. */
    result(p: PendingDelivery, result: SendResult): Promise<void> {
      switch (result.kind) {
        case 'outcome':
          return settler.outcome(p, result.outcome);
        case 'stale':
          return settler.stale(p, result.why);
        case 'waiting':
          return settler.waiting(p, result.inFlight);
        case 'deferred':
          return settler.deferred(p, result.retryAtMs, result.principal, result.reason);
      }
    },

    /** The back office answered (or could not be reached): record it, retry a transient result until the horizon. */
    async outcome(p: PendingDelivery, outcome: Outcome): Promise<void> {
      const attempt = p.attempt + 1;
      deps.deliveries.logAttempt(p.log, p.connector, p.change, outcome, attempt, p.base.traceId);
      const record = attemptOf(outcome, attempt, deps.now());
      const details = detailsOf(outcome);
      if (isDelivered(outcome)) {
        await write(p, outcome.kind as 'delivered' | 'duplicate', details, record);
        return settled(p, outcome.kind as DeliveryStatus);
      }
      if (outcome.kind === 'transient') {
        const delay = nextRetryDelay(deps.policy, attempt, p.firstAttemptAt, deps.now(), outcome.retryAfterMs);
        if (delay !== undefined) {
          const seconds = Math.ceil(delay / 1000);
          instruments().retries.add(1, { ...connectorAttributes(p.connector), code: outcome.code });
          return retryLater(p, attempt, seconds, details, record);
        }
        await write(
          p,
          'failed',
          { ...details, message: `gave up after ${attempt} attempts: ${details.message}` },
          record,
        );
        return settled(p, 'failed');
      }
      await write(p, 'failed', details, record);
      return settled(p, 'failed');
    },

    /** The principal's budget is spent, or a 429 paused it: the change waits on the queue, which is not an attempt. */
    async deferred(p: PendingDelivery, retryAtMs: number, principal: string, reason: DeferralReason): Promise<void> {
      const seconds = Math.max(1, Math.ceil((retryAtMs - deps.now()) / 1000) + Math.floor(Math.random() * 2));
      instruments().deferrals.add(1, { ...connectorAttributes(p.connector), reason });
      const kind = principal.split(':')[0];
      return retryLater(p, p.attempt, seconds, {
        code: 'sync.deferred',
        message:
          reason === 'throttle'
            ? `the back office throttled the ${kind} principal (429); sent when its pause ends`
            : `the request budget of ${kind} principal is spent for now; sent when it frees up`,
      });
    },

    /** An older revision is still in flight to this connector: look again shortly. */
    async waiting(p: PendingDelivery, inFlight: number): Promise<void> {
      instruments().deferrals.add(1, { ...connectorAttributes(p.connector), reason: 'ordering' });
      return retryLater(p, p.attempt, ORDERING_WAIT_SECONDS, {
        code: 'sync.waiting-for-older-revision',
        message: `revision ${inFlight} is still in flight`,
      });
    },

    /**
     * This revision will not be sent: a newer one was sent or is in flight, or this one was delivered before.
     * A redelivered message leaves its delivered row alone; a second message with a revision already sent
     * gets a stale row of its own.
     */
    async stale(p: PendingDelivery, why: string): Promise<void> {
      const existing = await deps.deliveries.findRow(p.base);
      if (existing && existing.value.messageId === p.change.messageId && isDeliveredStatus(existing.value.status)) {
        p.log.info('delivery.redelivered', {
          deliveryId: p.base.id,
          messageId: p.change.messageId,
          status: existing.value.status,
        });
        trace.getActiveSpan()?.setAttributes({ outcome: existing.value.status, 'delivery.redelivered': true });
        return settled(p, existing.value.status);
      }
      const base =
        existing && existing.value.messageId !== p.change.messageId
          ? { ...p.base, id: rowIdFor(p.connector.id, `${p.base.id}|${p.change.messageId}`) }
          : p.base;
      // The row was just read: a stale row of its own is new, this delivery's own row is not.
      await deps.deliveries.record(base, 'stale', p.log, { code: 'sync.stale', message: why }, undefined, {
        ...recordOptions(p),
        fresh: base !== p.base || !existing,
      });
      return settled(p, 'stale');
    },

    /** The connector does not take this change: sending is off, or the action is not among its actions. */
    async skipped(p: PendingDelivery, status: 'skipped-disabled' | 'skipped-action'): Promise<void> {
      await write(
        p,
        status,
        status === 'skipped-disabled'
          ? { code: 'sync.sending-disabled', message: 'sendAppointments is false' }
          : { code: 'sync.action-not-sent', message: `the connector does not send action ${p.change.databaseAction}` },
      );
      return settled(p, status);
    },

    /** The connector of a queued delivery was deleted before it was sent. */
    async connectorGone(item: WorkItemMessage, base: RowBase, log: Logger): Promise<void> {
      const details = { code: 'sync.connector-deleted', message: 'the connector was deleted before this delivery' };
      await deps.deliveries.record(base, 'failed', log, details, undefined, {
        fresh: false,
        enqueuedAt: item.enqueuedAt ?? item.firstAttemptAt,
      });
      return settled({ recoveryId: item.recoveryId, base }, 'failed');
    },
  };
  return settler;
}

/** What the delivery log passes on to its listeners (metrics, health) besides the row. */
const recordOptions = (p: PendingDelivery) => ({
  fresh: p.fresh,
  backOffice: p.connector.backOffice,
  enqueuedAt: p.enqueuedAt,
});

const isDeliveredStatus = (status: DeliveryStatus) => status === 'delivered' || status === 'duplicate';

export type Settler = ReturnType<typeof createSettler>;
