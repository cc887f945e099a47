// Writes the delivery log and its structured log lines: one row per (change, connector), plus rows for
// changes that reached no connector or could not be read at all.
import { createHash } from 'node:crypto';
import type { Outcome } from '../backOffice/outcome';
import { deliveryId } from '../backOffice/pushBody';
import type { StoredConnector } from '../connectors/connectorStore';
import type { Logger } from '../platform/logging';
import { type DeliveryLog, type DeliveryRow, type DeliveryStatus, serialiseChange } from './deliveryLog';
import type { AppointmentChange } from './message';

export type RowBase = Omit<DeliveryRow, 'createdAt' | 'updatedAt' | 'history' | 'attempts' | 'status'>;

/** A stable row id for rows without a connector: equal input, equal id (redelivery updates the same row). */
const rowIdFor = (kind: string, text: string) =>
  deliveryId(
    kind === 'message' ? '00000000-0000-0000-0000-000000000000' : kind,
    createHash('sha256').update(text).digest('hex'),
    0,
  );

export function createDeliveryRecorder(deps: { deliveries: DeliveryLog }, now: () => number) {
  function rowBase(connector: StoredConnector | null, change: AppointmentChange, connectorId?: string): RowBase {
    const id = connector?.id ?? connectorId;
    const a = change.appointment;
    return {
      id: id ? deliveryId(id, a.appointmentGuid, change.revision) : rowIdFor('no-connector', change.messageId),
      messageId: change.messageId,
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
      change: serialiseChange(change),
    };
  }

  async function record(
    base: RowBase,
    status: DeliveryStatus,
    log: Logger,
    details: Partial<Pick<DeliveryRow, 'code' | 'message' | 'lastHttpStatus' | 'durationMs' | 'nextAttemptAt'>> = {},
    attempt?: DeliveryRow['history'][number],
  ): Promise<DeliveryRow> {
    const row = await deps.deliveries.record(
      { ...base, ...details },
      { status, attempt, countsAsAttempt: Boolean(attempt) },
    );
    const fields = {
      deliveryId: row.id,
      connectorId: row.connectorId,
      sourceApp: row.sourceApp,
      appointmentId: row.appointmentId,
      revision: row.revision,
      status,
      code: row.code,
    };
    if (status === 'failed' || status === 'no-connector') log.warn('delivery.outcome', fields);
    else log.info('delivery.outcome', fields);
    return row;
  }

  function logAttempt(
    log: Logger,
    connector: StoredConnector,
    change: AppointmentChange,
    outcome: Outcome,
    attempt: number,
  ) {
    log.info('delivery.attempt', {
      connectorId: connector.id,
      backOffice: connector.backOffice,
      sourceApp: change.appointment.sourceApp,
      appointmentId: change.appointment.appointmentId,
      revision: change.revision,
      outcome: outcome.kind,
      status: outcome.status ?? null,
      code: outcome.code,
      durationMs: outcome.durationMs,
      attempt,
    });
  }

  async function recordMalformed(raw: unknown, reason: string, log: Logger, code = 'sync.malformed'): Promise<void> {
    const text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw));
    const stamp = new Date(now()).toISOString();
    await deps.deliveries.record(
      {
        id: rowIdFor('message', text),
        messageId: null,
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
        change: serialiseChange(text),
      },
      {
        status: 'failed',
        attempt: { at: stamp, attempt: 0, outcome: 'permanent', status: null, code, durationMs: 0, message: reason },
      },
    );
    log.warn('delivery.outcome', { status: 'failed', code, reason });
  }

  async function recordNoConnector(change: AppointmentChange, log: Logger): Promise<void> {
    await record(rowBase(null, change), 'no-connector', log, {
      code: 'sync.no-connector',
      message: `no connector has source app ${change.appointment.sourceApp}${change.appointment.sourceType ? ` and source type ${change.appointment.sourceType}` : ''}`,
    });
  }

  return { rowBase, record, logAttempt, recordMalformed, recordNoConnector };
}
