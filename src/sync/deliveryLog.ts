// Writes the delivery log and its structured log lines: one row per (change, connector), keyed by the
// deterministic delivery id, so a redelivered message updates its row instead of adding one; plus rows for
// changes that reached no connector or could not be read at all. Every attempt joins a bounded history.
import { createHash } from 'node:crypto';
import type { AppointmentChange } from '../model/appointmentChange';
import type { StoredConnector } from '../model/connector';
import type { AttemptRecord, DeliveryStatus } from '../model/delivery';
import { messageWithCode, type Outcome } from '../model/outcome';
import { deliveryId } from '../model/pushBody';
import { instanceName } from '../platform/instance';
import type { Logger } from '../platform/logging';
import { redact, redactAndTruncate } from '../platform/redact';
import { type DeliveryStore, rowPartition, type StoredDelivery } from '../stores/deliveryStore';
import { isPreconditionFailed } from '../stores/table';

export type RowBase = Omit<StoredDelivery, 'createdAt' | 'updatedAt' | 'history' | 'attempts' | 'status' | 'instance'>;
export type RowDetails = Partial<
  Pick<StoredDelivery, 'code' | 'message' | 'lastHttpStatus' | 'durationMs' | 'nextAttemptAt'>
>;

const MAX_HISTORY = 25;
const MAX_ROUNDS = 10;

/** A stable row id for rows without a connector: equal input, equal id (redelivery updates the same row). */
export const rowIdFor = (kind: string, text: string) =>
  deliveryId(
    kind === 'message' ? '00000000-0000-0000-0000-000000000000' : kind,
    createHash('sha256').update(text).digest('hex'),
    0,
  );

/** The trace id of a W3C traceparent. */
export const traceIdOfParent = (traceparent: string | undefined) =>
  traceparent ? (/^[\da-f]{2}-([\da-f]{32})-/.exec(traceparent)?.[1] ?? null) : null;

/** The messageId a message that could not be read as a change may still carry (a UUID), or null. */
function messageIdIn(text: string): string | null {
  try {
    const id = (JSON.parse(text) as { messageId?: unknown; change?: { messageId?: unknown } } | null) ?? {};
    const candidate = id.messageId ?? id.change?.messageId;
    return typeof candidate === 'string' && /^[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}$/i.test(candidate)
      ? candidate
      : null;
  } catch {
    return null;
  }
}

export function rowBase(
  connector: Pick<StoredConnector, 'id' | 'name'> | null,
  change: AppointmentChange,
  context: { traceId: string | null; connectorId?: string },
): RowBase {
  const id = connector?.id ?? context.connectorId;
  const a = change.appointment;
  return {
    id: id ? deliveryId(id, a.appointmentGuid, change.revision) : rowIdFor('no-connector', change.messageId),
    messageId: change.messageId,
    traceId: traceIdOfParent(change.traceparent) ?? context.traceId,
    connectorId: id ?? null,
    connectorName: connector?.name ?? null,
    sourceApp: a.sourceApp,
    sourceType: a.sourceType,
    appointmentId: a.appointmentId,
    appointmentGuid: a.appointmentGuid,
    revision: change.revision,
    databaseAction: change.databaseAction,
    lastHttpStatus: null,
    code: null,
    message: null,
    durationMs: null,
    nextAttemptAt: null,
    change: JSON.stringify(change),
  };
}

export function attemptOf(outcome: Outcome, attempt: number, at: number): AttemptRecord {
  return {
    at: new Date(at).toISOString(),
    attempt,
    outcome: outcome.kind,
    status: outcome.status ?? null,
    code: outcome.code,
    durationMs: outcome.durationMs,
    message: messageWithCode(outcome),
  };
}

export function detailsOf(outcome: Outcome): RowDetails {
  return {
    code: outcome.code,
    message: messageWithCode(outcome),
    lastHttpStatus: outcome.status ?? null,
    durationMs: outcome.durationMs,
  };
}

/**
 * A row that says this message was delivered keeps saying so against a late "retrying" or "stale" without an
 * attempt: a copy of the message that waited, or was deferred, while another copy got through.
 */
const settledBefore = (current: StoredDelivery, base: RowBase, status: DeliveryStatus) =>
  (status === 'retrying' || status === 'stale') &&
  current.messageId === base.messageId &&
  (current.status === 'delivered' || current.status === 'duplicate');

/** A row written: what it said before (undefined for a new row), with what the writer knew of the delivery. */
export interface RowWritten {
  row: StoredDelivery;
  previous: DeliveryStatus | undefined;
  /** This write added an attempt to the row (not a deferral, not a write applied twice). */
  attempted: boolean;
  /** The connector's back office, when the row has a connector. */
  backOffice?: string;
  /** When the change entered the service's queue (for its latency); the row's creation when not known. */
  enqueuedAt?: number;
}

/** Told of every row written (metrics, connector health); must not throw and must not wait. */
export type RowListener = (written: RowWritten) => void;

export interface RecordOptions {
  fresh?: boolean;
  /** An explicit request (a replay): it rewrites even a row that says delivered. */
  requested?: boolean;
  backOffice?: string;
  enqueuedAt?: number;
}

export function createDeliveryLog(store: DeliveryStore, now: () => number, listeners: RowListener[] = []) {
  const tell = (written: RowWritten) => {
    for (const listener of listeners) listener(written);
  };

  /** The row after this update, given what was there. */
  function next(
    base: RowBase,
    current: StoredDelivery | undefined,
    status: DeliveryStatus,
    attempt: AttemptRecord | undefined,
    stamp: string,
  ): StoredDelivery {
    const history = [...(current?.history ?? [])];
    // A write whose answer was lost (a timeout after the service had applied it) is applied again on the row it
    // made: the attempt is there already, and counts once.
    const known = attempt && history.some((h) => h.at === attempt.at && h.code === attempt.code);
    const counted = attempt && !known && attempt.attempt > 0;
    const attempts = (current?.attempts ?? 0) + (counted ? 1 : 0);
    // An attempt is numbered by the row, not by the run that made it: a replay or a recovery goes on counting.
    if (attempt && !known)
      history.push({
        ...attempt,
        ...(counted ? { attempt: attempts } : {}),
        ...(attempt.message ? { message: redactAndTruncate(attempt.message, 300) } : {}),
      });
    return {
      ...base,
      message: base.message === null ? null : redactAndTruncate(base.message, 1000),
      change: base.change ?? current?.change ?? null,
      status,
      attempts,
      createdAt: current?.createdAt ?? stamp,
      updatedAt: stamp,
      instance: instanceName,
      history: history.slice(-MAX_HISTORY),
    };
  }

  /** Applies an update to the row (created when missing); an attempt joins the history. */
  async function write(
    base: RowBase,
    status: DeliveryStatus,
    attempt?: AttemptRecord,
    fresh = true,
    requested = false,
  ): Promise<Omit<RowWritten, 'backOffice' | 'enqueuedAt'> & { applied: boolean }> {
    // Most rows are new: one transaction creates the row with its pointer (and its message's index entry). While
    // rows of the old layout may exist, the row is looked for first, since its id may already have one there; so
    // is the row of a delivery that is not fresh (a retry, a replay, a recovery).
    if (fresh && !(await store.mayHaveLegacy())) {
      const created = next(base, undefined, status, attempt, new Date(now()).toISOString());
      if ((await store.insert(created, now())).created)
        return { row: created, previous: undefined, attempted: created.attempts > 0, applied: true };
    }
    // The id is taken (a redelivery, a retry, another instance): read the row, merge, replace with its ETag.
    for (let round = 0; ; round++) {
      const found = await store.find(base.id, rowPartition(base));
      if (found && !attempt && !requested && settledBefore(found.value, base, status))
        return { row: found.value, previous: found.value.status, attempted: false, applied: false };
      const row = next(base, found?.value, status, attempt, new Date(now()).toISOString());
      if (!found) {
        const orphaned = await store.orphanedKeys(base.id);
        if (orphaned) {
          await store.restore(row, orphaned);
          return { row, previous: undefined, attempted: row.attempts > 0, applied: true };
        }
        if ((await store.insert(row, now())).created)
          return { row, previous: undefined, attempted: row.attempts > 0, applied: true };
        continue;
      }
      try {
        await store.replace(row, found.keys, found.etag);
        return {
          row,
          previous: found.value.status,
          attempted: row.attempts > found.value.attempts,
          applied: true,
        };
      } catch (error) {
        if (!isPreconditionFailed(error) || round >= MAX_ROUNDS) throw error;
      }
    }
  }

  async function record(
    base: RowBase,
    status: DeliveryStatus,
    log: Logger,
    details: RowDetails = {},
    attempt?: AttemptRecord,
    options: RecordOptions = {},
  ): Promise<StoredDelivery> {
    const { applied, ...written } = await write(
      { ...base, ...details },
      status,
      attempt,
      options.fresh ?? true,
      options.requested,
    );
    const { row } = written;
    if (applied) tell({ ...written, backOffice: options.backOffice, enqueuedAt: options.enqueuedAt });
    const fields = {
      deliveryId: row.id,
      messageId: row.messageId,
      traceId: row.traceId,
      connectorId: row.connectorId,
      sourceApp: row.sourceApp,
      appointmentId: row.appointmentId,
      revision: row.revision,
      status: row.status,
      code: row.code,
    };
    if (row.status === 'failed' || row.status === 'no-connector') log.warn('delivery.outcome', fields);
    else log.info('delivery.outcome', fields);
    return row;
  }

  return {
    record,

    /** A message that is not a valid change: recorded once, failed, never retried. */
    async recordUnreadable(
      text: string,
      reason: string,
      log: Logger,
      code = 'sync.malformed',
      traceId: string | null = null,
    ) {
      const attempt: AttemptRecord = {
        at: new Date(now()).toISOString(),
        attempt: 0,
        outcome: 'permanent',
        status: null,
        code,
        durationMs: 0,
        message: reason,
      };
      const { applied, ...written } = await write(
        {
          id: rowIdFor('message', text),
          messageId: messageIdIn(text),
          traceId,
          connectorId: null,
          connectorName: null,
          sourceApp: null,
          sourceType: null,
          appointmentId: null,
          appointmentGuid: null,
          revision: null,
          databaseAction: null,
          lastHttpStatus: null,
          code,
          message: reason,
          durationMs: null,
          nextAttemptAt: null,
          // What could not be read may hold anything a producer put there: it is kept redacted.
          change: redact(text),
        },
        'failed',
        attempt,
      );
      if (applied) tell(written);
      log.warn('delivery.outcome', { status: 'failed', code, reason, traceId });
    },

    logAttempt(
      log: Logger,
      connector: StoredConnector,
      change: AppointmentChange,
      outcome: Outcome,
      attempt: number,
      traceId: string | null,
    ) {
      log.info('delivery.attempt', {
        connectorId: connector.id,
        backOffice: connector.backOffice,
        messageId: change.messageId,
        traceId,
        sourceApp: change.appointment.sourceApp,
        appointmentId: change.appointment.appointmentId,
        revision: change.revision,
        outcome: outcome.kind,
        status: outcome.status ?? null,
        code: outcome.code,
        durationMs: outcome.durationMs,
        attempt,
      });
    },

    /** A row by id alone (the API): every partition that holds rows may be asked. */
    find: (id: string) => store.find(id),
    /** The row of this delivery, read in its own partition (two point reads). */
    findRow: (base: Pick<RowBase, 'id' | 'connectorId' | 'sourceApp'>) => store.find(base.id, rowPartition(base)),
    list: store.list,
    purgeBefore: store.purgeBefore,
    migrateLegacy: store.migrateLegacy,
  };
}

export type DeliveryLog = ReturnType<typeof createDeliveryLog>;
