// The delivery log: one row per (change, connector), keyed by the deterministic delivery id, so a redelivered
// message updates its row instead of adding one. Rows without a connector (no-connector, malformed, crashed)
// are keyed by the message. Every attempt is appended to a bounded history.
import type { TableClient } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { DependencyError, statusCodeOf } from '../platform/errors';
import { redactAndTruncate } from '../platform/redact';
import { type Page, readPage } from '../platform/tablePage';

export const deliveryStatuses = [
  'delivered',
  'duplicate',
  'skipped-disabled',
  'skipped-action',
  'stale',
  'no-connector',
  'retrying',
  'failed',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const attemptRecordSchema = z.object({
  at: z.string(),
  attempt: z.number(),
  outcome: z.string(),
  status: z.number().nullable(),
  code: z.string(),
  durationMs: z.number(),
  message: z.string().optional(),
});
export type AttemptRecord = z.output<typeof attemptRecordSchema>;

export const deliveryRowSchema = z
  .object({
    id: z.string(),
    messageId: z.string().nullable(),
    connectorId: z.string().nullable(),
    connectorName: z.string().nullable(),
    sourceApp: z.string().nullable(),
    sourceType: z.string().nullable(),
    appointmentId: z.number().nullable(),
    appointmentGuid: z.string().nullable(),
    revision: z.number().nullable(),
    databaseAction: z.string().nullable(),
    status: z.enum(deliveryStatuses),
    attempts: z.number(),
    lastHttpStatus: z.number().nullable(),
    code: z.string().nullable(),
    message: z.string().nullable(),
    durationMs: z.number().nullable(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    history: z.array(attemptRecordSchema),
    /** The change as JSON, for replay (absent when too large to keep); never returned by the API. */
    change: z.string().nullable(),
  })
  .meta({ title: 'Delivery' });
export type DeliveryRow = z.output<typeof deliveryRowSchema>;

export interface DeliveryFilter {
  sourceApp?: string;
  connectorId?: string;
  status?: DeliveryStatus;
  appointmentId?: number;
  from?: Date;
  to?: Date;
}

const ROW = 'delivery';
const MAX_HISTORY = 25;
const MAX_CHANGE_CHARS = 30_000; // a string property holds about 32K characters

const num = (v: unknown) => (typeof v === 'number' ? v : v === undefined || v === null ? null : Number(v));
const str = (v: unknown) => (typeof v === 'string' ? v : null);

function fromEntity(e: Record<string, unknown>): DeliveryRow {
  return {
    id: String(e.partitionKey),
    messageId: str(e.messageId),
    connectorId: str(e.connectorId),
    connectorName: str(e.connectorName),
    sourceApp: str(e.sourceApp),
    sourceType: str(e.sourceType),
    appointmentId: num(e.appointmentId),
    appointmentGuid: str(e.appointmentGuid),
    revision: num(e.revision),
    databaseAction: str(e.databaseAction),
    status: e.status as DeliveryStatus,
    attempts: Number(e.attempts ?? 0),
    lastHttpStatus: num(e.lastHttpStatus),
    code: str(e.code),
    message: str(e.message),
    durationMs: num(e.durationMs),
    nextAttemptAt: str(e.nextAttemptAt),
    createdAt: String(e.createdAt),
    updatedAt: String(e.updatedAt),
    history: e.history ? (JSON.parse(String(e.history)) as AttemptRecord[]) : [],
    change: str(e.change),
  };
}

function toEntity(row: DeliveryRow): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: row.id,
    rowKey: ROW,
  };
  for (const [key, value] of Object.entries(row)) {
    if (key === 'id' || value === null || value === undefined) continue;
    // Numbers as doubles: an appointment id above 2^31 must not become Int64 (a bigint on the way back).
    if (typeof value === 'number') entity[key] = { value: String(value), type: 'Double' };
    else entity[key] = key === 'history' ? JSON.stringify(value) : value;
  }
  return entity;
}

export interface DeliveryLog {
  get(id: string): Promise<DeliveryRow | undefined>;
  /** Applies an update to the row (created when missing), appending an attempt when given. */
  record(
    base: Omit<DeliveryRow, 'createdAt' | 'updatedAt' | 'history' | 'attempts' | 'status'>,
    update: { status: DeliveryStatus; attempt?: AttemptRecord; countsAsAttempt?: boolean },
  ): Promise<DeliveryRow>;
  list(filter: DeliveryFilter, page: { size: number; token?: string }): Promise<Page<DeliveryRow>>;
}

export function serialiseChange(change: unknown): string | null {
  const json = JSON.stringify(change);
  return json.length <= MAX_CHANGE_CHARS ? json : null;
}

export function createDeliveryLog(table: () => Promise<TableClient>, now: () => Date = () => new Date()): DeliveryLog {
  const fail = (operation: string, error: unknown): never => {
    throw new DependencyError(`Table storage failed to ${operation}.`, 'storage-unavailable', { cause: error });
  };
  const get = async (id: string) => {
    try {
      return fromEntity(await (await table()).getEntity<Record<string, unknown>>(id, ROW));
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      return fail('read a delivery', error);
    }
  };
  return {
    get,
    async record(base, update) {
      const client = await table();
      // Most rows are new: create first (one round trip); on a conflict read, merge and replace with the ETag,
      // since two instances may record on one row (a redelivered message).
      let current: (DeliveryRow & { etag?: string }) | undefined;
      let tryCreate = true;
      for (let round = 0; ; round++) {
        if (!tryCreate) {
          try {
            const entity = await client.getEntity<Record<string, unknown>>(base.id, ROW);
            current = { ...fromEntity(entity), etag: entity.etag };
          } catch (error) {
            if (statusCodeOf(error) !== 404) fail('read a delivery', error);
            current = undefined;
          }
        }
        const stamp = now().toISOString();
        const history = [...(current?.history ?? [])];
        if (update.attempt)
          history.push({
            ...update.attempt,
            ...(update.attempt.message ? { message: redactAndTruncate(update.attempt.message, 300) } : {}),
          });
        const row: DeliveryRow = {
          ...base,
          message: base.message === null ? null : redactAndTruncate(base.message, 1000),
          change: base.change ?? current?.change ?? null,
          status: update.status,
          attempts: (current?.attempts ?? 0) + (update.countsAsAttempt ? 1 : 0),
          createdAt: current?.createdAt ?? stamp,
          updatedAt: stamp,
          history: history.slice(-MAX_HISTORY),
        };
        try {
          if (current) await client.updateEntity(toEntity(row), 'Replace', { etag: current.etag });
          else await client.createEntity(toEntity(row));
          return row;
        } catch (error) {
          tryCreate = false;
          if ((statusCodeOf(error) === 412 || statusCodeOf(error) === 409 || statusCodeOf(error) === 404) && round < 10)
            continue;
          return fail('write a delivery', error);
        }
      }
    },
    async list(filter, page) {
      const client = await table();
      const clauses = [odata`RowKey eq ${ROW}`];
      if (filter.sourceApp) clauses.push(odata`sourceApp eq ${filter.sourceApp}`);
      if (filter.connectorId) clauses.push(odata`connectorId eq ${filter.connectorId}`);
      if (filter.status) clauses.push(odata`status eq ${filter.status}`);
      if (filter.appointmentId !== undefined) clauses.push(`appointmentId eq ${filter.appointmentId}.0`);
      if (filter.from) clauses.push(odata`updatedAt ge ${filter.from.toISOString()}`);
      if (filter.to) clauses.push(odata`updatedAt lt ${filter.to.toISOString()}`);
      return readPage(client, clauses.join(' and '), page, fromEntity, 'deliveries');
    },
  };
}
