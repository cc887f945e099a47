// The delivery log in Table Storage. Keys are laid out so every filter is a partition (or range) query that
// returns the newest rows first:
//   row      PK "c~<connector id>" (a connector's rows), "n~" (changes no connector took), "x~" (messages that
//            could not be read); RK "<inverted first-recorded time>~<row id>": newest first within a partition
//   pointer  PK "i~<first hex digit of the row id>", RK row id -> the row's keys (GET /api/deliveries/{id})
//   message  PK "m~<first hex digit>", RK message id -> the ids of the message's rows (?messageId=)
//   feed     PK "feeds", RK "<row partition>~<source app key>": which row partitions hold a source app's rows
// A list reads the partitions in scope (one connector, the connectors a source app wrote to, or all) from a
// shared cursor, so pages merge in one order. Writes go through the table batcher: rows of one connector and
// pointers sharing a digit travel in one transaction.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import {
  attemptRecordSchema,
  type Delivery,
  type DeliveryStatus,
  deliverySchema,
  deliveryStatuses,
} from '../model/delivery';
import { sourceAppKey } from '../model/text';
import type { Versioned } from '../platform/etag';
import { decodeCursor, firstRows, newestFirstKey, pageOf, timeRange } from './newestFirst';
import {
  asDouble,
  binaryText,
  type Entity,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  jsonColumn,
  optional,
  parseRow,
  pingTable,
  queryAll,
  readEntity,
  storageFailure,
  type Table,
  textAsBinary,
} from './table';
import type { TableBatcher } from './tableBatcher';
import type { Page } from './tablePage';

/** A row as stored: what the API shows, plus the change text kept for replays. */
export const storedDeliverySchema = deliverySchema.extend({
  /** The change as JSON, for replays and recoveries; never returned by the API. */
  change: z.string().nullable(),
});
export type StoredDelivery = z.output<typeof storedDeliverySchema>;

export interface DeliveryFilter {
  sourceApp?: string;
  connectorId?: string;
  status?: DeliveryStatus;
  statuses?: DeliveryStatus[];
  appointmentId?: number;
  messageId?: string;
  /** First recorded at or after. */
  from?: Date;
  /** First recorded before. */
  to?: Date;
}

const numberColumn = optional(z.number());
const rowEntitySchema = z
  .object({
    id: z.string(),
    messageId: optional(z.string()),
    traceId: optional(z.string()),
    connectorId: optional(z.string()),
    connectorName: optional(z.string()),
    sourceApp: optional(z.string()),
    sourceType: optional(z.string()),
    appointmentId: numberColumn,
    appointmentGuid: optional(z.string()),
    revision: numberColumn,
    databaseAction: optional(z.string()),
    status: z.enum(deliveryStatuses),
    attempts: z.number(),
    lastHttpStatus: numberColumn,
    code: optional(z.string()),
    message: optional(z.string()),
    durationMs: numberColumn,
    nextAttemptAt: optional(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    history: jsonColumn(z.array(attemptRecordSchema)),
    change: optional(binaryText),
  })
  .pipe(storedDeliverySchema);

const pointerSchema = z.object({ pk: z.string(), rk: z.string() });
const messageIndexSchema = z.object({ ids: jsonColumn(z.array(z.string())) });
const pointerPartition = (id: string) => `i~${id.charAt(0).toLowerCase()}`;
const messagePartition = (messageId: string) => `m~${messageId.charAt(0).toLowerCase()}`;
const FEEDS = 'feeds';
const NO_CONNECTOR = 'n~';
const UNREAD = 'x~';

/** The partition of a row: its connector's, or the shared ones for rows without a connector. */
export function rowPartition(row: Pick<Delivery, 'connectorId' | 'sourceApp'>): string {
  if (row.connectorId) return `c~${row.connectorId}`;
  return row.sourceApp ? NO_CONNECTOR : UNREAD;
}

export interface RowKeys {
  partitionKey: string;
  rowKey: string;
}

function toEntity(row: StoredDelivery, keys: RowKeys): Entity {
  const entity: Entity = { ...keys };
  for (const [key, value] of Object.entries(row)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'number') entity[key] = asDouble(value);
    else if (key === 'history') entity[key] = JSON.stringify(value);
    else if (key === 'change') {
      const bytes = textAsBinary(String(value));
      if (bytes) entity[key] = bytes;
    } else entity[key] = value;
  }
  if (row.sourceApp) entity.sourceAppKey = sourceAppKey(row.sourceApp);
  return entity;
}

const fromEntity = (e: Record<string, unknown>) => parseRow(rowEntitySchema, e, 'delivery');

export interface FoundDelivery extends Versioned<StoredDelivery> {
  keys: RowKeys;
}

export interface DeliveryStore {
  /** The row with its ETag and keys; undefined when there is none. */
  find(id: string): Promise<FoundDelivery | undefined>;
  /** Where a row lives by its pointer, even when the row itself is missing (a write that stopped halfway). */
  keysOf(id: string): Promise<RowKeys | undefined>;
  /** Writes a row at the keys its pointer names (the repair of a write that stopped halfway). */
  restore(row: StoredDelivery, keys: RowKeys): Promise<string>;
  /**
   * Adds a new row, first recorded now. Resolves "exists" (and adds nothing) when the id is taken already:
   * two instances, or a redelivered message, raced to create it.
   */
  insert(
    row: StoredDelivery,
    createdAtMs: number,
  ): Promise<{ created: true; etag: string; keys: RowKeys } | { created: false }>;
  /** Replaces a row read at `etag`; rejects with 412 when it changed since. */
  replace(row: StoredDelivery, keys: RowKeys, etag: string): Promise<string>;
  /** Remembers which rows a message made, for ?messageId=. */
  indexMessage(messageId: string, ids: string[], createdAt: string): Promise<void>;
  list(filter: DeliveryFilter, page: { size: number; token?: string }): Promise<Page<StoredDelivery>>;
  /** Deletes rows first recorded before the cutoff, with their pointers; returns how many. */
  purgeBefore(cutoffMs: number): Promise<number>;
  ping(): Promise<void>;
}

export function createDeliveryStore(table: Table, writes: TableBatcher): DeliveryStore {
  const knownFeeds = new Set<string>();

  async function registerFeed(partition: string, sourceApp: string | null): Promise<void> {
    const key = `${partition}~${sourceApp ? sourceAppKey(sourceApp) : ''}`;
    if (knownFeeds.has(key)) return;
    await writes.submit({
      kind: 'upsert',
      entity: { partitionKey: FEEDS, rowKey: key, partition, sourceAppKey: sourceApp ? sourceAppKey(sourceApp) : '' },
    });
    knownFeeds.add(key);
  }

  async function feedsInScope(filter: DeliveryFilter): Promise<string[]> {
    if (filter.connectorId) return [`c~${filter.connectorId}`];
    const clauses = [odata`PartitionKey eq ${FEEDS}`];
    if (filter.sourceApp) clauses.push(odata`sourceAppKey eq ${sourceAppKey(filter.sourceApp)}`);
    const feeds = await queryAll(await table(), clauses.join(' and '), 'delivery feeds', ['partition']);
    return [...new Set(feeds.map((f) => String(f.partition)))];
  }

  function rowClauses(filter: DeliveryFilter): string[] {
    const clauses: string[] = [];
    const statuses = filter.statuses ?? (filter.status ? [filter.status] : []);
    if (statuses.length) clauses.push(`(${statuses.map((s) => odata`status eq ${s}`).join(' or ')})`);
    if (filter.sourceApp) clauses.push(odata`sourceAppKey eq ${sourceAppKey(filter.sourceApp)}`);
    if (filter.appointmentId !== undefined) clauses.push(`appointmentId eq ${filter.appointmentId}.0`);
    return [...clauses, ...timeRange(filter)];
  }

  const keysOf = async (id: string): Promise<RowKeys | undefined> => {
    const pointer = await readEntity(await table(), pointerPartition(id), id, 'a delivery pointer');
    if (!pointer) return undefined;
    const keys = parseRow(pointerSchema, pointer, 'delivery pointer');
    return { partitionKey: keys.pk, rowKey: keys.rk };
  };

  const find = async (id: string): Promise<FoundDelivery | undefined> => {
    const keys = await keysOf(id);
    if (!keys) return undefined;
    const entity = await readEntity(await table(), keys.partitionKey, keys.rowKey, 'a delivery');
    return entity && { value: fromEntity(entity), etag: entity.etag, keys };
  };

  return {
    find,
    keysOf,
    async restore(row, keys) {
      try {
        return (await writes.submit({ kind: 'upsert', entity: toEntity(row, keys) })) ?? '';
      } catch (error) {
        return storageFailure('record a delivery', error);
      }
    },
    async insert(row, createdAtMs) {
      // The pointer first: whoever creates it owns the row's keys, so a row is only ever written at the keys its
      // pointer names and two writers racing to create it never leave two copies in a list.
      const keys = { partitionKey: rowPartition(row), rowKey: newestFirstKey(createdAtMs, row.id) };
      try {
        await writes.submit({
          kind: 'create',
          entity: { partitionKey: pointerPartition(row.id), rowKey: row.id, pk: keys.partitionKey, rk: keys.rowKey },
        });
      } catch (error) {
        if (isConflict(error)) return { created: false };
        return storageFailure('record a delivery', error);
      }
      const [r] = await Promise.allSettled([
        writes.submit({ kind: 'create', entity: toEntity(row, keys) }),
        registerFeed(keys.partitionKey, row.sourceApp),
      ]);
      if (r.status === 'fulfilled') return { created: true, etag: r.value ?? '', keys };
      // Another writer found our pointer before our row landed and restored the row at our keys: it is there.
      if (isConflict(r.reason)) return { created: false };
      await writes
        .submit({ kind: 'delete', partitionKey: pointerPartition(row.id), rowKey: row.id })
        .catch(() => undefined); // a pointer left behind is repaired by the next write (`keysOf` + `restore`)
      return storageFailure('record a delivery', r.reason);
    },
    async replace(row, keys, etag) {
      try {
        return (await writes.submit({ kind: 'update', entity: toEntity(row, keys), etag })) ?? '';
      } catch (error) {
        if (isPreconditionFailed(error)) throw error;
        return storageFailure('record a delivery', error);
      }
    },
    async indexMessage(messageId, ids, createdAt) {
      try {
        await writes.submit({
          kind: 'upsert',
          entity: { partitionKey: messagePartition(messageId), rowKey: messageId, ids: JSON.stringify(ids), createdAt },
        });
      } catch (error) {
        storageFailure('index a message', error);
      }
    },
    async list(filter, page) {
      const after = decodeCursor(page.token);
      let rows: Array<{ rowKey: string; value: StoredDelivery }>;
      if (filter.messageId) {
        const client = await table();
        const index = await readEntity(client, messagePartition(filter.messageId), filter.messageId, 'a message index');
        const ids = index ? parseRow(messageIndexSchema, index, 'message index').ids : [];
        rows = (await Promise.all(ids.map(find)))
          .flatMap((f) => (f ? [{ rowKey: f.keys.rowKey, value: f.value }] : []))
          .filter((r) => r.rowKey > after && matches(r.value, filter));
      } else {
        const clauses = rowClauses(filter);
        const partitions = await feedsInScope(filter);
        const perPartition = await Promise.all(
          partitions.map((p) =>
            firstRows(table, p, [odata`RowKey gt ${after}`, ...clauses], page.size + 1, 'deliveries'),
          ),
        );
        rows = perPartition.flat().map((e) => ({ rowKey: String(e.rowKey), value: fromEntity(e) }));
      }
      rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
      return pageOf(rows, page.size);
    },
    async purgeBefore(cutoffMs) {
      const client = await table();
      let removed = 0;
      const feeds = await queryAll(client, odata`PartitionKey eq ${FEEDS}`, 'delivery feeds', ['partition']);
      for (const partition of new Set(feeds.map((f) => String(f.partition)))) {
        const old = await queryAll(
          client,
          [odata`PartitionKey eq ${partition}`, ...timeRange({ to: new Date(cutoffMs) })].join(' and '),
          'old deliveries',
          ['PartitionKey', 'RowKey', 'id'],
        );
        await Promise.all(
          old
            .flatMap((e) => [
              writes.submit({ kind: 'delete', partitionKey: partition, rowKey: String(e.rowKey) }),
              writes.submit({ kind: 'delete', partitionKey: pointerPartition(String(e.id)), rowKey: String(e.id) }),
            ])
            .map((p) =>
              p.catch((error) => (isNotFound(error) ? undefined : storageFailure('purge deliveries', error))),
            ),
        );
        removed += old.length;
      }
      const cutoff = new Date(cutoffMs).toISOString();
      for (const digit of '0123456789abcdef') {
        const old = await queryAll(
          client,
          [odata`PartitionKey eq ${`m~${digit}`}`, odata`createdAt lt ${cutoff}`].join(' and '),
          'old message indexes',
          ['PartitionKey', 'RowKey'],
        );
        await Promise.all(
          old.map((e) =>
            writes
              .submit({ kind: 'delete', partitionKey: `m~${digit}`, rowKey: String(e.rowKey) })
              .catch((error) => (isNotFound(error) ? undefined : storageFailure('purge message indexes', error))),
          ),
        );
      }
      return removed;
    },
    ping: () => pingTable(table, 'deliveries'),
  };
}

/** The filters a row read by pointer must pass (a partition query applies them on the server). */
function matches(row: StoredDelivery, filter: DeliveryFilter): boolean {
  const statuses = filter.statuses ?? (filter.status ? [filter.status] : []);
  if (statuses.length && !statuses.includes(row.status)) return false;
  if (filter.connectorId && row.connectorId !== filter.connectorId) return false;
  if (filter.sourceApp && (!row.sourceApp || sourceAppKey(row.sourceApp) !== sourceAppKey(filter.sourceApp)))
    return false;
  if (filter.appointmentId !== undefined && row.appointmentId !== filter.appointmentId) return false;
  const created = Date.parse(row.createdAt);
  if (filter.from && created < filter.from.getTime()) return false;
  if (filter.to && created >= filter.to.getTime()) return false;
  return true;
}
