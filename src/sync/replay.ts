// Use case: send one logged change again. To its connector through the retry queue (harmless if it was
// delivered: the back office answers duplicate), or, for a change no connector took, through routing again.
import { auditing } from '../audit/auditTrail';
import { appointmentChangeSchema } from '../model/appointmentChange';
import type { CallContext } from '../model/audit';
import { ConflictError, NotFoundError } from '../platform/errors';
import type { Logger } from '../platform/logging';
import type { StoredDelivery } from '../stores/deliveryStore';
import type { SyncDeps } from './deps';

export function replayDelivery(deps: SyncDeps, id: string, call: CallContext, log: Logger): Promise<StoredDelivery> {
  return auditing(
    deps.audit,
    call,
    log,
    { operation: 'delivery.replay', resourceType: 'delivery', resourceId: id },
    async () => {
      const found = await deps.deliveries.find(id);
      if (!found) throw new NotFoundError(`Delivery ${id} does not exist.`);
      const row = found.value;
      const change = parseKept(row.change);
      if (!change)
        throw new ConflictError(
          'This delivery cannot be replayed: its message was malformed or too large to keep.',
          'not-replayable',
        );
      if (!row.connectorId) await deps.queues.sendChange(change);
      else
        await deps.queues.sendWorkItem(
          {
            kind: 'delivery',
            connectorId: row.connectorId,
            change,
            attempt: 0,
            firstAttemptAt: deps.now(),
            mode: 'replay',
          },
          0,
        );
      log.info('delivery.replay-queued', { deliveryId: id, connectorId: row.connectorId });
      const { createdAt: _c, updatedAt: _u, history: _h, attempts: _a, status, ...base } = row;
      const updated = await deps.deliveries.record(
        {
          ...base,
          code: 'sync.replay-queued',
          message: 'replay queued',
          nextAttemptAt: new Date(deps.now()).toISOString(),
        },
        row.connectorId ? 'retrying' : status,
        log,
        {},
        undefined,
        // The row is there (it was just read), and says what was asked even when it said delivered.
        { fresh: false, requested: true },
      );
      return { value: updated, resourceId: id, detail: row.connectorId ? 'to its connector' : 'routed again' };
    },
  );
}

export function parseKept(text: string | null) {
  if (!text) return undefined;
  try {
    const parsed = appointmentChangeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
