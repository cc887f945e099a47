// The delivery log's keys against real Table Storage (Azurite): newest first across partitions, every filter,
// paging with one cursor, and retention removing rows with their pointers.
import { randomBytes, randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStatus } from '../../src/model/delivery';
import { silentLogger } from '../../src/platform/logging';
import { createDeliveryStore, type DeliveryStore, type StoredDelivery } from '../../src/stores/deliveryStore';
import { TableBatcher } from '../../src/stores/tableBatcher';
import { createDeliveryLog } from '../../src/sync/deliveryLog';
import { azuriteTable } from '../support/azurite';
import { eventually } from '../support/eventually';

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
    expect(await all({ messageId: rows[1]!.messageId! })).toEqual([]); // not indexed: only what the sync indexed
    await store.indexMessage(rows[1]!.messageId!, [rows[1]!.id], new Date(T0).toISOString());
    expect(await all({ messageId: rows[1]!.messageId! })).toEqual(newestFirst(1));
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

  it("keeps one row when another instance records it between this one's pointer and its row", async () => {
    // Instance A's row write is held back until instance B has found A's pointer and written the row there.
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const held = (entity: { partitionKey?: string }) => String(entity.partitionKey).startsWith('c~');
    const slowTable = async () => {
      const client = await table();
      return new Proxy(client, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver);
          if (key === 'createEntity')
            return async (entity: { partitionKey?: string }, ...rest: unknown[]) => {
              if (held(entity)) await gate;
              return value.call(target, entity, ...rest);
            };
          if (key === 'submitTransaction')
            return async (actions: Array<[string, { partitionKey?: string }]>, ...rest: unknown[]) => {
              if (actions.some(([, e]) => held(e))) await gate;
              return value.call(target, actions, ...rest);
            };
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    const a = createDeliveryLog(createDeliveryStore(slowTable, new TableBatcher(slowTable)), Date.now);
    const b = createDeliveryLog(createDeliveryStore(table, new TableBatcher(table)), Date.now);
    const connectorId = randomUUID();
    const base = toRecord(connectorId);
    const first = a.record(base, 'retrying', silentLogger);
    await eventually(() => store.keysOf(base.id)); // A's pointer is there, its row is not
    await b.record(base, 'delivered', silentLogger);
    open();
    await expect(first).resolves.toMatchObject({ id: base.id });
    await b.record(base, 'failed', silentLogger);
    expect(await all({ connectorId }, 1000)).toEqual([base.id]);
    expect((await store.find(base.id))?.value.status).toBe('failed');
  });

  it('removes rows first recorded before the cutoff, with their pointers, and keeps the rest', async () => {
    const removed = await store.purgeBefore(T0 - 3.5 * HOUR);
    expect(removed).toBe(2);
    expect(await all({ sourceApp: app })).toEqual(newestFirst(4, 3, 2));
    expect(await store.find(rows[0]!.id)).toBeUndefined();
    expect(await store.keysOf(rows[0]!.id)).toBeUndefined();
    expect(await store.find(rows[3]!.id)).toBeDefined();
  });
});
