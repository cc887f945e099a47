// Use case: one appointment change from the queue.
//   read it (a malformed one is recorded once, never retried) -> remember it as its appointment's latest
//   revision -> route it -> record "no connector", or for each connector: skip it or send it
// Every connector gets its try before a failure hands the message back to the host for a retry.
import { type AppointmentChange, appointmentChangeSchema } from '../model/appointmentChange';
import type { Logger } from '../platform/logging';
import { rowBase } from './deliveryLog';
import { readOrRecord, type SyncDeps } from './deps';
import type { PendingDelivery } from './pending';
import { connectorsFor, skipReason } from './routing';

export interface QueueMessage {
  /** The message as the trigger parsed it (JSON text becomes an object). */
  value: unknown;
  /** The message text itself, as it was on the queue (after base64). */
  text: string;
  /** Why the message could not even be handed over as JSON (nested too deep), when that is so. */
  unreadable?: string;
  /** The trace id of this invocation, for rows of changes that carry no traceparent. */
  traceId: string | null;
  /** When the message was put on the queue (the host's insertion time), if known. */
  enqueuedAt?: number;
}

export async function handleChange(deps: SyncDeps, message: QueueMessage, log: Logger): Promise<void> {
  const change = await readOrRecord(deps, appointmentChangeSchema, message, log);
  if (!change) return;
  const changeLog = log.child({ messageId: change.messageId });
  await deps.latest.remember(change);
  const connectors = connectorsFor(change, await deps.connectorsOf(change.appointment.sourceApp));
  const enqueuedAt = message.enqueuedAt ?? deps.now();
  if (connectors.length === 0) return recordNoConnector(deps, change, message.traceId, changeLog, enqueuedAt);
  const pending = connectors.map(
    (connector): PendingDelivery => ({
      connector,
      change,
      attempt: 0,
      firstAttemptAt: deps.now(),
      enqueuedAt,
      mode: 'retry',
      fresh: true,
      base: rowBase(connector, change, { traceId: message.traceId }),
      log: changeLog,
    }),
  );
  const results = await Promise.allSettled(pending.map((p) => deliverOrSkip(deps, p)));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** A connector that does not take the change says so in its row; the others get it sent. */
export function deliverOrSkip(deps: SyncDeps, p: PendingDelivery): Promise<void> {
  const skip = skipReason(p.connector, p.change);
  return skip ? deps.settle.skipped(p, skip) : deps.dispatch(p);
}

export async function recordNoConnector(
  deps: SyncDeps,
  change: AppointmentChange,
  traceId: string | null,
  log: Logger,
  enqueuedAt?: number,
) {
  const a = change.appointment;
  await deps.deliveries.record(
    rowBase(null, change, { traceId }),
    'no-connector',
    log,
    {
      code: 'sync.no-connector',
      message: `no connector has source app ${a.sourceApp}${a.sourceType ? ` and source type ${a.sourceType}` : ''}`,
    },
    undefined,
    { enqueuedAt },
  );
}
