// The delivery log's keys against real Table Storage (Azurite): newest first across partitions, every filter,
// paging with one cursor, a row written with its pointer and index entry in one transaction, rows of the old
// layout still found and moved, and retention removing rows with their pointers.
import { randomBytes, randomUUID } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStatus } from '../../src/model/delivery';
import { silentLogger } from '../../src/platform/logging';
import { createDeliveryStore, type DeliveryStore, type StoredDelivery } from '../../src/stores/deliveryStore';
import { newestFirstKey } from '../../src/stores/newestFirst';
import { TableBatcher } from '../../src/stores/tableBatcher';
import { createDeliveryLog } from '../../src/sync/deliveryLog';
import { azuriteTable } from '../support/azurite';

let store: DeliveryStore;
let table: () => Promise<TableClient>;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 29, 12);

beforeAll(async () => {
  const client = azuriteTable(`dl${randomBytes(6).toString('hex')}`);
  await client.createTable();
  table = async () => client;
  store = createDeliveryStore(table, new TableBatcher(table));
});

function row(o: Partial<StoredDelivery> & { connectorId: string | null; sourceApp: string | null }): StoredDelivery {
  return {
    id: randomUUID(),
    messageId: randomUUID(),
    traceId: null,
    connectorName: null,
    sourceType: null,
    appointmentId: 1,
    appointmentGuid: randomUUID(),
    revision: 1,
    databaseAction: 'I',
    status: 'delivered' as DeliveryStatus,
    attempts: 1,
    lastHttpStatus: 201,
    code: 'delivered',
    message: null,
    durationMs: 5,
    nextAttemptAt: null,
    instance: null,
    createdAt: '',
    updatedAt: '',
    history: [],
    change: null,
    ...o,
  };
}

/** What the sync hands the delivery log to record: a row without the fields the log fills in. */
function toRecord(connectorId: string) {
  const {
    createdAt: _c,
    updatedAt: _u,
    history: _h,
    attempts: _a,
    status: _s,
    ...base
  } = row({
    connectorId,
    sourceApp: 'RACE',
  });
  return base;
}

async function insertAt(ms: number, r: StoredDelivery) {
  const stamped = { ...r, createdAt: new Date(ms).toISOString(), updatedAt: new Date(ms).toISOString() };
  expect((await store.insert(stamped, ms)).created).toBe(true);
  return stamped;
}

/** Every row key of a partition, rows, pointers and index entries alike. */
async function queryKeys(partition: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of (await table()).listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partition}` } }))
    keys.push(String(e.rowKey));
  return keys;
}

async function all(filter: Parameters<DeliveryStore['list']>[0], size = 2) {
  const ids: string[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await store.list(filter, { size, token });
    ids.push(...page.items.map((i) => i.id));
    if (!page.continuationToken) return ids;
    token = page.continuationToken;
  }
  throw new Error('too many pages');
}

describe('the delivery log in Table Storage', () => {
  const app = `APP${randomBytes(3).toString('hex').toUpperCase()}`;
  const [c1, c2] = [randomUUID(), randomUUID()];
  const rows: StoredDelivery[] = [];

  beforeAll(async () => {
    // Five rows across two connectors and the no-connector partition, an hour apart, oldest first.
    rows.push(
      await insertAt(T0 - 5 * HOUR, row({ connectorId: c1, sourceApp: app, status: 'failed', appointmentId: 7 })),
    );
    rows.push(await insertAt(T0 - 4 * HOUR, row({ connectorId: c2, sourceApp: app.toLowerCase() })));
    rows.push(await insertAt(T0 - 3 * HOUR, row({ connectorId: null, sourceApp: app, status: 'no-connector' })));
    rows.push(await insertAt(T0 - 2 * HOUR, row({ connectorId: c1, sourceApp: app, appointmentId: 7 })));
    rows.push(await insertAt(T0 - 1 * HOUR, row({ connectorId: c2, sourceApp: app, status: 'failed' })));
  });
  const newestFirst = (...indexes: number[]) => indexes.map((i) => rows[i]!.id);

  it('lists a source app newest first across its partitions, case-insensitively, two by two', async () => {
    expect(await all({ sourceApp: app.toLowerCase() })).toEqual(newestFirst(4, 3, 2, 1, 0));
  });

  it('filters by connector, status, appointment, message and time', async () => {
    expect(await all({ connectorId: c1 })).toEqual(newestFirst(3, 0));
    expect(await all({ sourceApp: app, status: 'failed' })).toEqual(newestFirst(4, 0));
    expect(await all({ sourceApp: app, appointmentId: 7 })).toEqual(newestFirst(3, 0));
    expect(await all({ messageId: rows[1]!.messageId! })).toEqual(newestFirst(1));
    expect(await all({ messageId: rows[1]!.messageId!, connectorId: c1 })).toEqual([]);
    expect(await all({ sourceApp: app, from: new Date(T0 - 4 * HOUR), to: new Date(T0 - 2 * HOUR) })).toEqual(
      newestFirst(2, 1),
    );
  });

  it('finds a row by id, and refuses a continuation token that is not one of its own', async () => {
    expect((await store.find(rows[2]!.id))?.value).toMatchObject({ id: rows[2]!.id, status: 'no-connector' });
    await expect(store.list({ sourceApp: app }, { size: 2, token: 'not-a-token' })).rejects.toMatchObject({
      code: 'validation-failed',
    });
  });

  it('says a row exists already instead of adding a second one for its id', async () => {
    expect(await store.insert({ ...rows[0]!, status: 'retrying' }, T0)).toEqual({ created: false });
    expect(await all({ connectorId: c1 })).toEqual(newestFirst(3, 0));
  });

  it('keeps one row per id when three instances race to record it', async () => {
    // Three instances: three stores with batchers of their own over one table, as the sync writes rows.
    const logs = [0, 1, 2].map(() => createDeliveryLog(createDeliveryStore(table, new TableBatcher(table)), Date.now));
    const connectorId = randomUUID();
    const bases = Array.from({ length: 40 }, () => toRecord(connectorId));
    const statuses = ['retrying', 'delivered', 'stale'] as const;
    await Promise.all(bases.flatMap((base) => logs.map((log, i) => log.record(base, statuses[i]!, silentLogger))));
    const ids = await all({ connectorId }, 1000);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('writes a row, its pointer and its index entry in one partition and one request; lists show only rows', async () => {
    const connectorId = randomUUID();
    const r = row({ connectorId, sourceApp: 'ONEPARTITION' });
    await insertAt(T0, r);
    const keys = (await queryKeys(`c~${connectorId}`)).sort();
    expect(keys).toEqual([`${newestFirstKey(T0, r.id)}`, `i~${r.id}`, `m~${r.messageId}~${r.id}`].sort());
    expect(await all({ connectorId })).toEqual([r.id]);
    expect((await store.find(r.id, `c~${connectorId}`))?.value.id).toBe(r.id);
  });

  it('reads, updates in place and moves a row of the old layout (pointer and index in partitions of their own)', async () => {
    const old = azuriteTable(`dlold${randomBytes(5).toString('hex')}`);
    await old.createTable();
    const oldTable = async () => old;
    const connectorId = randomUUID();
    const r = row({ connectorId, sourceApp: 'OLDAPP' });
    const rk = newestFirstKey(T0, r.id);
    // As the previous version wrote it: the pointer and the message index by first hex digit, the row, the feed.
    await old.createEntity({ partitionKey: `i~${r.id[0]}`, rowKey: r.id, pk: `c~${connectorId}`, rk });
    await old.createEntity({
      partitionKey: `m~${r.messageId![0]}`,
      rowKey: r.messageId!,
      ids: JSON.stringify([r.id]),
      createdAt: new Date(T0).toISOString(),
    });
    await old.createEntity({
      partitionKey: `c~${connectorId}`,
      rowKey: rk,
      id: r.id,
      messageId: r.messageId!,
      sourceApp: 'OLDAPP',
      sourceAppKey: 'OLDAPP',
      status: 'retrying',
      attempts: { value: '1', type: 'Double' },
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
      history: '[]',
    });
    await old.createEntity({
      partitionKey: 'feeds',
      rowKey: `c~${connectorId}~OLDAPP`,
      partition: `c~${connectorId}`,
      sourceAppKey: 'OLDAPP',
    });
    const oldStore = createDeliveryStore(oldTable, new TableBatcher(oldTable));
    expect(await oldStore.mayHaveLegacy()).toBe(true);
    expect((await oldStore.find(r.id))?.value.status).toBe('retrying');
    expect((await oldStore.list({ messageId: r.messageId! }, { size: 10 })).items.map((i) => i.id)).toEqual([r.id]);
    // A write finds it where it is: the same row, not a second one.
    const log = createDeliveryLog(oldStore, () => T0 + HOUR);
    const { createdAt: _c, updatedAt: _u, history: _h, attempts: _a, status: _s, ...base } = r;
    await log.record(base, 'delivered', silentLogger);
    expect((await oldStore.list({ connectorId }, { size: 10 })).items.map((i) => [i.id, i.status])).toEqual([
      [r.id, 'delivered'],
    ]);
    // The upgrade moves the pointer into the row's partition; then nothing of the old layout is looked for.
    expect(await oldStore.migrateLegacy(100)).toBe(1);
    expect(await oldStore.mayHaveLegacy()).toBe(false);
    expect((await oldStore.find(r.id))?.value.status).toBe('delivered');
    expect((await old.getEntity(`c~${connectorId}`, `i~${r.id}`)).rk).toBe(rk);
  });

  it('removes rows first recorded before the cutoff, with their pointers, and keeps the rest', async () => {
    const removed = await store.purgeBefore(T0 - 3.5 * HOUR);
    expect(removed).toBe(2);
    expect(await all({ sourceApp: app })).toEqual(newestFirst(4, 3, 2));
    expect(await store.find(rows[0]!.id)).toBeUndefined();
    // Its pointer and index entry went with it.
    expect((await queryKeys(`c~${c1}`)).filter((k) => k.includes(rows[0]!.id))).toEqual([]);
    expect(await store.find(rows[3]!.id)).toBeDefined();
  });
});
