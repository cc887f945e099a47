// Appointment sync use cases. A change from the queue is routed to every connector of its source app and
// delivered to each; a transient failure becomes a delayed work item for that connector only; ordering and
// idempotency come from the sync state (claim per connector and appointment) and the deterministic body id.
import type { BackOfficeClient } from '../backOffice/backOfficeClient';
import type { Outcome } from '../backOffice/outcome';
import type { StoredConnector } from '../connectors/connectorStore';
import { resolveTarget, SecretMissingError } from '../connectors/connectorTarget';
import { ConflictError, NotFoundError } from '../platform/errors';
import type { Logger } from '../platform/logging';
import type { SecretStore } from '../secrets/secretStore';
import type { DeliveryLog, DeliveryRow } from './deliveryLog';
import { createDeliveryRecorder, type RowBase } from './deliveryRecorder';
import type { KeyedLimiter } from './limiter';
import { type AppointmentChange, appointmentChangeSchema } from './message';
import { MAX_QUEUE_DELAY_SECONDS, nextRetryDelay, type RetryPolicy } from './retryPolicy';
import type { SyncState } from './syncState';
import { type WorkItem, workItemSchema } from './workItem';

export interface SyncQueues {
  sendChange(change: AppointmentChange): Promise<void>;
  sendWorkItem(item: WorkItem, delaySeconds: number): Promise<void>;
}

export interface SyncDeps {
  connectorsOf(sourceApp: string): Promise<StoredConnector[]>;
  connectorById(id: string): Promise<StoredConnector | undefined>;
  secrets: SecretStore;
  backOffice: BackOfficeClient;
  deliveries: DeliveryLog;
  state: SyncState;
  queues: SyncQueues;
  policy: RetryPolicy;
  limiter: KeyedLimiter;
  now?: () => number;
}

/** Wait before re-checking when an older revision of the same appointment is still in flight. */
const ORDERING_WAIT_SECONDS = 2;

const describeIssues = (issues: Array<{ path: PropertyKey[]; message: string }>) =>
  issues
    .slice(0, 10)
    .map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`)
    .join('; ');

export function createSyncService(deps: SyncDeps) {
  const now = deps.now ?? Date.now;
  const { rowBase, record, logAttempt, recordMalformed, recordNoConnector } = createDeliveryRecorder(deps, now);

  // ---- the flow ------------------------------------------------------------------------------------

  /** The appointments queue: parse, route, deliver to each connector. */
  async function handleChange(raw: unknown, log: Logger): Promise<void> {
    const parsed = appointmentChangeSchema.safeParse(raw);
    if (!parsed.success) return recordMalformed(raw, describeIssues(parsed.error.issues), log);
    const change = parsed.data;
    const connectors = await route(change);
    if (connectors.length === 0) return recordNoConnector(change, log);
    // Every connector gets its try before a failure hands the message back to the host for a retry.
    const results = await Promise.allSettled(
      connectors.map((connector) =>
        deliverTo(connector, change, { attempt: 0, firstAttemptAt: now(), replay: false }, log),
      ),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** The retry queue: one connector, one change, attempt n+1. */
  async function handleWorkItem(raw: unknown, log: Logger): Promise<void> {
    const parsed = workItemSchema.safeParse(raw);
    if (!parsed.success) return recordMalformed(raw, describeIssues(parsed.error.issues), log);
    const item = parsed.data;
    const connector = await deps.connectorById(item.connectorId);
    if (!connector) {
      await record(rowBase(null, item.change, item.connectorId), 'failed', log, {
        code: 'sync.connector-deleted',
        message: 'the connector was deleted before the retry',
      });
      return;
    }
    await deliverTo(connector, item.change, item, log);
  }

  // ---- routing ---------------------------------------------------------------------------------------

  /** Connectors of the source app (case-insensitive) whose source type is unset or equal. */
  async function route(change: AppointmentChange): Promise<StoredConnector[]> {
    const type = change.appointment.sourceType?.toUpperCase() ?? null;
    return (await deps.connectorsOf(change.appointment.sourceApp)).filter(
      (c) => c.sourceType === null || c.sourceType.toUpperCase() === type,
    );
  }

  // ---- one connector -------------------------------------------------------------------------------

  async function deliverTo(
    connector: StoredConnector,
    change: AppointmentChange,
    item: Pick<WorkItem, 'attempt' | 'firstAttemptAt' | 'replay'>,
    log: Logger,
  ): Promise<void> {
    const base = rowBase(connector, change);
    if (!connector.sendAppointments)
      return void (await record(base, 'skipped-disabled', log, {
        code: 'sync.sending-disabled',
        message: 'sendAppointments is false',
      }));
    if (!connector.databaseActions.includes(change.databaseAction)) {
      return void (await record(base, 'skipped-action', log, {
        code: 'sync.action-not-sent',
        message: `the connector does not send action ${change.databaseAction}`,
      }));
    }

    const claim = await deps.state.claim(connector.id, change.appointment.appointmentGuid, change.revision, {
      allowEqual: item.replay,
    });
    if (claim.kind === 'stale') {
      // The same revision delivered before (a redelivered message): its row already says so.
      if (claim.lastDelivered === change.revision) return;
      return void (await record(base, 'stale', log, {
        code: 'sync.stale',
        message: `revision ${change.revision} is older than revision ${claim.lastDelivered}, already sent or in flight`,
      }));
    }
    if (claim.kind === 'busy') {
      await deps.queues.sendWorkItem(
        { kind: 'delivery', connectorId: connector.id, change, ...item },
        ORDERING_WAIT_SECONDS,
      );
      return void (await record(base, 'retrying', log, {
        code: 'sync.waiting-for-older-revision',
        message: `revision ${claim.inFlight} is still in flight`,
      }));
    }

    let delivered = false;
    try {
      const attempt = item.attempt + 1;
      const outcome = await attemptDelivery(connector, change);
      logAttempt(log, connector, change, outcome, attempt);
      delivered = outcome.kind === 'delivered' || outcome.kind === 'duplicate';
      await claim.release(delivered);
      await settle(connector, change, { ...item, attempt }, outcome, base, log);
    } catch (error) {
      if (!delivered) await claim.release(false).catch(() => undefined);
      throw error;
    }
  }

  async function attemptDelivery(connector: StoredConnector, change: AppointmentChange): Promise<Outcome> {
    const started = now();
    try {
      const target = await resolveTarget(connector, deps.secrets);
      return await deps.limiter.run(connector.id, () => deps.backOffice.deliver(target, change));
    } catch (error) {
      if (error instanceof SecretMissingError)
        return {
          kind: 'permanent',
          code: 'config.secret-missing',
          message: error.message,
          durationMs: now() - started,
        };
      throw error;
    }
  }

  /** Records the outcome; a transient one is rescheduled until the retry horizon, then fails. */
  async function settle(
    connector: StoredConnector,
    change: AppointmentChange,
    item: Pick<WorkItem, 'attempt' | 'firstAttemptAt' | 'replay'>,
    outcome: Outcome,
    base: RowBase,
    log: Logger,
  ) {
    const attemptRecord = {
      at: new Date(now()).toISOString(),
      attempt: item.attempt,
      outcome: outcome.kind,
      status: outcome.status ?? null,
      code: outcome.code,
      durationMs: outcome.durationMs,
      message: outcome.message,
    };
    const details = {
      code: outcome.code,
      message: outcome.upstreamCode ? `${outcome.upstreamCode}: ${outcome.message}` : outcome.message,
      lastHttpStatus: outcome.status ?? null,
      durationMs: outcome.durationMs,
    };
    if (outcome.kind === 'delivered' || outcome.kind === 'duplicate') {
      return record(base, outcome.kind, log, details, attemptRecord);
    }
    if (outcome.kind === 'transient') {
      const delay = nextRetryDelay(deps.policy, item.attempt, item.firstAttemptAt, now(), outcome.retryAfterMs);
      if (delay !== undefined) {
        const seconds = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.ceil(delay / 1000));
        await deps.queues.sendWorkItem(
          {
            kind: 'delivery',
            connectorId: connector.id,
            change,
            attempt: item.attempt,
            firstAttemptAt: item.firstAttemptAt,
            replay: item.replay,
          },
          seconds,
        );
        return record(
          base,
          'retrying',
          log,
          { ...details, nextAttemptAt: new Date(now() + seconds * 1000).toISOString() },
          attemptRecord,
        );
      }
      return record(
        base,
        'failed',
        log,
        { ...details, message: `gave up after ${item.attempt} attempts: ${details.message}` },
        attemptRecord,
      );
    }
    return record(base, 'failed', log, details, attemptRecord);
  }

  // ---- entry points --------------------------------------------------------------------------------

  return {
    handleChange,
    handleWorkItem,

    /** A message the host gave up on (poison queue): record it as failed with the reason. */
    async handlePoisoned(text: string, source: 'changes' | 'retries', reason: string, log: Logger): Promise<void> {
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        // not JSON: recorded as text
      }
      const change = appointmentChangeSchema.safeParse(
        source === 'retries' ? (value as { change?: unknown })?.change : value,
      );
      const connectorId =
        source === 'retries' ? ((value as { connectorId?: unknown })?.connectorId as string | undefined) : undefined;
      if (change.success && (source === 'changes' || typeof connectorId === 'string')) {
        await record(rowBase(null, change.data, connectorId ?? undefined), 'failed', log, {
          code: 'sync.poisoned',
          message: reason,
        });
        if (source === 'changes') {
          const routed = await route(change.data).catch(() => []);
          for (const connector of routed) {
            const row = await deps.deliveries.get(rowBase(connector, change.data).id);
            if (!row || row.status === 'retrying')
              await record(rowBase(connector, change.data), 'failed', log, { code: 'sync.poisoned', message: reason });
          }
        }
        return;
      }
      await recordMalformed(text, reason, log, 'sync.poisoned');
    },

    async enqueue(changes: AppointmentChange[]): Promise<string[]> {
      for (const change of changes) await deps.queues.sendChange(change);
      return changes.map((c) => c.messageId);
    },

    async replay(id: string, log: Logger): Promise<DeliveryRow> {
      const row = await deps.deliveries.get(id);
      if (!row) throw new NotFoundError(`Delivery ${id} does not exist.`);
      const change = row.change ? appointmentChangeSchema.safeParse(JSON.parse(row.change)) : undefined;
      if (!change?.success)
        throw new ConflictError(
          'This delivery cannot be replayed: its message was malformed or too large to keep.',
          'not-replayable',
        );
      if (!row.connectorId) {
        await deps.queues.sendChange(change.data); // route again: a connector may exist now
      } else {
        await deps.queues.sendWorkItem(
          {
            kind: 'delivery',
            connectorId: row.connectorId,
            change: change.data,
            attempt: 0,
            firstAttemptAt: now(),
            replay: true,
          },
          0,
        );
      }
      log.info('delivery.replay-queued', { deliveryId: id, connectorId: row.connectorId });
      return deps.deliveries.record(
        { ...row, code: 'sync.replay-queued', message: 'replay queued', nextAttemptAt: new Date(now()).toISOString() },
        { status: row.connectorId ? 'retrying' : row.status },
      );
    },

    listDeliveries: deps.deliveries.list,
    getDelivery: async (id: string) => {
      const row = await deps.deliveries.get(id);
      if (!row) throw new NotFoundError(`Delivery ${id} does not exist.`);
      return row;
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;
