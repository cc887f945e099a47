// The delivery log in Table Storage. Keys are laid out so every filter is a partition (or range) query that
// returns the newest rows first, and so one row's writes share one transaction:
//   row partition  PK "c~<connector id>" (a connector's rows), "n~" (changes no connector took), "x~" (messages
//                  that could not be read), holding
//     row          RK "<inverted first-recorded time>~<row id>": newest first within the partition
//     pointer      RK "i~<row id>" -> the row's key (a row found by id within its partition)
//     index entry  RK "m~<message id>~<row id>" -> the row's key (?messageId=)
//   feed           PK "feeds", RK "<row partition>~<source app key>": which row partitions hold a source app's rows
// A new row, its pointer and its index entry are created in one transaction, so a row is never half written and
// two writers racing to create it leave one. Rows written before this layout have their pointer in PK
// "i~<first hex digit of the row id>" and their message's index in PK "m~<first hex digit>": they are still read,
// and `migrateLegacy` (the deliveryLogUpgrade timer) moves the pointers into the rows' partitions.
// A list reads the partitions in scope (one connector, the connectors a source app wrote to, or all) from a
// shared cursor, so pages merge in one order. Writes go through the table batcher: the rows of one connector
// travel in one transaction.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import {
  attemptRecordSchema,
  type Delivery,
  type DeliveryStatus,
  deliveryRowSchema,
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
import type { TableBatcher, TableOp } from './tableBatcher';
import type { Page } from './tablePage';

/** A row as stored: what the API shows, plus the change text kept for replays. */
export const storedDeliverySchema = deliveryRowSchema.extend({
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
    instance: optional(z.string()),
    history: jsonColumn(z.array(attemptRecordSchema)),
    change: optional(binaryText),
  })
  .pipe(storedDeliverySchema);

const legacyPointerSchema = z.object({ pk: z.string(), rk: z.string() });
const legacyIndexSchema = z.object({ ids: jsonColumn(z.array(z.string())) });
const keyOnlySchema = z.object({ rk: z.string() });
const legacyPointerPartition = (id: string) => `i~${id.charAt(0).toLowerCase()}`;
const legacyIndexPartition = (messageId: string) => `m~${messageId.charAt(0).toLowerCase()}`;
const pointerKey = (id: string) => `i~${id}`;
const indexPrefix = (messageId: string) => `m~${messageId}~`;
const FEEDS = 'feeds';
const NO_CONNECTOR = 'n~';
const UNREAD = 'x~';
/** Row keys start with a digit, pointers and index entries with a letter: rows are the keys below ':'. */
const ROWS_ONLY = odata`RowKey lt ${':'}`;
/** How long a finding that old pointers exist holds before it is checked again. */
const LEGACY_RECHECK_MS = 60_000;

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
  /**
   * The row with its ETag and keys; undefined when there is none. With `partition` (the row's own, when the
   * caller knows its connector) it is two point reads; without, every partition that holds rows is asked.
   */
  find(id: string, partition?: string): Promise<FoundDelivery | undefined>;
  /** The keys an old-layout pointer names when its row is missing (a write that stopped halfway), to repair it. */
  orphanedKeys(id: string): Promise<RowKeys | undefined>;
  /** Writes a row at the keys given (the repair of an old write that stopped halfway). */
  restore(row: StoredDelivery, keys: RowKeys): Promise<string>;
  /**
   * Adds a new row, first recorded now, with its pointer and its message's index entry, in one transaction.
   * Resolves "exists" (and adds nothing) when the id is taken already: two instances, or a redelivered message,
   * raced to create it.
   */
  insert(
    row: StoredDelivery,
    createdAtMs: number,
  ): Promise<{ created: true; etag: string; keys: RowKeys } | { created: false }>;
  /** Replaces a row read at `etag`; rejects with 412 when it changed since. */
  replace(row: StoredDelivery, keys: RowKeys, etag: string): Promise<string>;
  /** Whether rows of the old layout may exist (their pointers elsewhere): then an insert looks first. */
  mayHaveLegacy(): Promise<boolean>;
  /** Moves up to `max` old-layout pointers into their rows' partitions; returns how many it moved. */
  migrateLegacy(max: number): Promise<number>;
  list(filter: DeliveryFilter, page: { size: number; token?: string }): Promise<Page<StoredDelivery>>;
  /** Deletes rows first recorded before the cutoff, with their pointers and index entries; returns how many. */
  purgeBefore(cutoffMs: number): Promise<number>;
  ping(): Promise<void>;
}

export function createDeliveryStore(table: Table, writes: TableBatcher, now: () => number = Date.now): DeliveryStore {
  // Both are asked by every write at first, many at once: each is looked up (or written) once per process.
  const knownFeeds = new Map<string, Promise<unknown>>();
  let legacy: { present: Promise<boolean>; checkedAt: number } | undefined;

  function registerFeed(partition: string, sourceApp: string | null): Promise<unknown> {
    const key = `${partition}~${sourceApp ? sourceAppKey(sourceApp) : ''}`;
    let registered = knownFeeds.get(key);
    if (!registered) {
      registered = writes.submit({
        kind: 'upsert',
        entity: { partitionKey: FEEDS, rowKey: key, partition, sourceAppKey: sourceApp ? sourceAppKey(sourceApp) : '' },
      });
      knownFeeds.set(key, registered);
      registered.catch(() => knownFeeds.delete(key));
    }
    return registered;
  }

  async function feedsInScope(filter: Pick<DeliveryFilter, 'connectorId' | 'sourceApp'>): Promise<string[]> {
    if (filter.connectorId) return [`c~${filter.connectorId}`];
    const clauses = [odata`PartitionKey eq ${FEEDS}`];
    if (filter.sourceApp) clauses.push(odata`sourceAppKey eq ${sourceAppKey(filter.sourceApp)}`);
    const feeds = await queryAll(await table(), clauses.join(' and '), 'delivery feeds', ['partition']);
    return [...new Set(feeds.map((f) => String(f.partition)))];
  }

  function rowClauses(filter: DeliveryFilter): string[] {
    const clauses: string[] = [ROWS_ONLY];
    const statuses = filter.statuses ?? (filter.status ? [filter.status] : []);
    if (statuses.length) clauses.push(`(${statuses.map((s) => odata`status eq ${s}`).join(' or ')})`);
    if (filter.sourceApp) clauses.push(odata`sourceAppKey eq ${sourceAppKey(filter.sourceApp)}`);
    if (filter.appointmentId !== undefined) clauses.push(`appointmentId eq ${filter.appointmentId}.0`);
    return [...clauses, ...timeRange(filter)];
  }

  const rowAt = async (keys: RowKeys): Promise<FoundDelivery | undefined> => {
    const entity = await readEntity(await table(), keys.partitionKey, keys.rowKey, 'a delivery');
    return entity && { value: fromEntity(entity), etag: entity.etag, keys };
  };

  /** The keys a pointer names: in the row's partition, or (old layout) in the pointer partitions. */
  const pointedTo = async (id: string, partition: string): Promise<RowKeys | undefined> => {
    const pointer = await readEntity(await table(), partition, pointerKey(id), 'a delivery pointer');
    return pointer && { partitionKey: partition, rowKey: parseRow(keyOnlySchema, pointer, 'delivery pointer').rk };
  };
  const legacyPointedTo = async (id: string): Promise<RowKeys | undefined> => {
    const pointer = await readEntity(await table(), legacyPointerPartition(id), id, 'a delivery pointer');
    if (!pointer) return undefined;
    const keys = parseRow(legacyPointerSchema, pointer, 'delivery pointer');
    return { partitionKey: keys.pk, rowKey: keys.rk };
  };

  async function anyLegacy(): Promise<boolean> {
    try {
      const first = await (await table())
        .listEntities({
          queryOptions: {
            filter: `${odata`PartitionKey ge ${'i~0'}`} and ${odata`PartitionKey le ${'i~f'}`}`,
            select: ['RowKey'],
          },
        })
        .byPage({ maxPageSize: 1 })
        .next();
      return !first.done && first.value.length > 0;
    } catch (error) {
      return storageFailure('look for old delivery pointers', error);
    }
  }

  /** Once none are found they never come back; while some are, the finding is checked again now and then. */
  async function mayHaveLegacy(): Promise<boolean> {
    const known = legacy;
    if (known && (now() - known.checkedAt < LEGACY_RECHECK_MS || !(await known.present))) return known.present;
    const present = anyLegacy();
    legacy = { present, checkedAt: now() };
    present.catch(() => {
      if (legacy?.present === present) legacy = undefined;
    });
    return present;
  }

  async function find(id: string, partition?: string): Promise<FoundDelivery | undefined> {
    let keys = partition ? await pointedTo(id, partition) : undefined;
    if (!keys && (await mayHaveLegacy())) keys = await legacyPointedTo(id);
    if (!keys && !partition) {
      const partitions = await feedsInScope({});
      keys = (await Promise.all(partitions.map((p) => pointedTo(id, p)))).find(Boolean);
    }
    return keys && rowAt(keys);
  }

  const ignoreMissing = (p: Promise<unknown>, what: string) =>
    p.then(
      () => undefined,
      (error: unknown) => (isNotFound(error) ? undefined : storageFailure(what, error)),
    );

  return {
    find,
    async orphanedKeys(id) {
      if (!(await mayHaveLegacy())) return undefined;
      const keys = await legacyPointedTo(id);
      return keys && !(await rowAt(keys)) ? keys : undefined;
    },
    async restore(row, keys) {
      try {
        return (await writes.submit({ kind: 'upsert', entity: toEntity(row, keys) })) ?? '';
      } catch (error) {
        return storageFailure('record a delivery', error);
      }
    },
    async insert(row, createdAtMs) {
      const keys = { partitionKey: rowPartition(row), rowKey: newestFirstKey(createdAtMs, row.id) };
      await registerFeed(keys.partitionKey, row.sourceApp).catch((error) => storageFailure('record a delivery', error));
      const unit: TableOp[] = [
        { kind: 'create', entity: { partitionKey: keys.partitionKey, rowKey: pointerKey(row.id), rk: keys.rowKey } },
        { kind: 'create', entity: toEntity(row, keys) },
      ];
      if (row.messageId)
        unit.push({
          kind: 'upsert',
          entity: {
            partitionKey: keys.partitionKey,
            rowKey: `${indexPrefix(row.messageId)}${row.id}`,
            rk: keys.rowKey,
            createdAt: row.createdAt,
          },
        });
      try {
        const etags = await writes.submitUnit(unit);
        return { created: true, etag: etags[1] ?? '', keys };
      } catch (error) {
        if (isConflict(error)) return { created: false };
        return storageFailure('record a delivery', error);
      }
    },
    async replace(row, keys, etag) {
      try {
        return (await writes.submit({ kind: 'update', entity: toEntity(row, keys), etag })) ?? '';
      } catch (error) {
        if (isPreconditionFailed(error)) throw error;
        return storageFailure('record a delivery', error);
      }
    },
    mayHaveLegacy,
    async migrateLegacy(max) {
      if (!(await mayHaveLegacy())) return 0;
      const client = await table();
      let old: Array<Record<string, unknown>> = [];
      try {
        const page = await client
          .listEntities<Record<string, unknown>>({
            queryOptions: { filter: `${odata`PartitionKey ge ${'i~0'}`} and ${odata`PartitionKey le ${'i~f'}`}` },
          })
          .byPage({ maxPageSize: max })
          .next();
        old = page.done ? [] : page.value;
      } catch (error) {
        storageFailure('list old delivery pointers', error);
      }
      await Promise.all(
        old.map(async (e) => {
          const keys = parseRow(legacyPointerSchema, e, 'delivery pointer');
          const id = String(e.rowKey);
          await writes
            .submit({ kind: 'upsert', entity: { partitionKey: keys.pk, rowKey: pointerKey(id), rk: keys.rk } })
            .catch((error) => storageFailure('move a delivery pointer', error));
          await ignoreMissing(client.deleteEntity(String(e.partitionKey), id), 'move a delivery pointer');
        }),
      );
      if (old.length < max) legacy = { present: Promise.resolve(false), checkedAt: now() };
      return old.length;
    },
    async list(filter, page) {
      const after = decodeCursor(page.token);
      let rows: Array<{ rowKey: string; value: StoredDelivery }>;
      if (filter.messageId) {
        const found = await rowsOfMessage(filter.messageId, filter);
        rows = found
          .map((f) => ({ rowKey: f.keys.rowKey, value: f.value }))
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
      const withLegacy = await mayHaveLegacy();
      let removed = 0;
      for (const partition of await feedsInScope({})) {
        const old = await queryAll(
          client,
          [odata`PartitionKey eq ${partition}`, ROWS_ONLY, ...timeRange({ to: new Date(cutoffMs) })].join(' and '),
          'old deliveries',
          ['PartitionKey', 'RowKey', 'id', 'messageId'],
        );
        await Promise.all(
          old.flatMap((e) => {
            const id = String(e.id);
            const gone = (rowKey: string) =>
              ignoreMissing(writes.submit({ kind: 'delete', partitionKey: partition, rowKey }), 'purge deliveries');
            return [
              gone(String(e.rowKey)),
              gone(pointerKey(id)),
              ...(e.messageId ? [gone(`${indexPrefix(String(e.messageId))}${id}`)] : []),
              ...(withLegacy
                ? [
                    ignoreMissing(
                      writes.submit({ kind: 'delete', partitionKey: legacyPointerPartition(id), rowKey: id }),
                      'purge deliveries',
                    ),
                  ]
                : []),
            ];
          }),
        );
        removed += old.length;
      }
      // The old layout's message index, until it has aged out.
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
            ignoreMissing(
              writes.submit({ kind: 'delete', partitionKey: `m~${digit}`, rowKey: String(e.rowKey) }),
              'purge message indexes',
            ),
          ),
        );
      }
      return removed;
    },
    ping: () => pingTable(table, 'deliveries'),
  };

  /** The rows one message made: its index entries in every partition in scope, and the old layout's index. */
  async function rowsOfMessage(messageId: string, filter: DeliveryFilter): Promise<FoundDelivery[]> {
    const client = await table();
    const prefix = indexPrefix(messageId);
    const entries = (
      await Promise.all(
        (
          await feedsInScope(filter)
        ).map((partition) =>
          queryAll(
            client,
            [odata`PartitionKey eq ${partition}`, odata`RowKey ge ${prefix}`, odata`RowKey lt ${`${prefix}~`}`].join(
              ' and ',
            ),
            'a message index',
            ['PartitionKey', 'rk'],
          ),
        ),
      )
    ).flat();
    const found = await Promise.all(
      entries.map((e) =>
        rowAt({ partitionKey: String(e.partitionKey), rowKey: parseRow(keyOnlySchema, e, 'message index').rk }),
      ),
    );
    const legacyIndex = await readEntity(client, legacyIndexPartition(messageId), messageId, 'a message index');
    const legacyIds = legacyIndex ? parseRow(legacyIndexSchema, legacyIndex, 'message index').ids : [];
    const legacyRows = await Promise.all(legacyIds.map((id) => find(id)));
    const all = [...found, ...legacyRows].filter((f): f is FoundDelivery => f !== undefined);
    return [...new Map(all.map((f) => [`${f.keys.partitionKey}/${f.keys.rowKey}`, f])).values()];
  }
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
