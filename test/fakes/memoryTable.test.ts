// The in-memory table the unit layer runs the stores on, held to Azurite: the same operations, the same answers
// (statuses, entities, key order, filters, paging, atomic transactions).
import { randomBytes } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { asDouble } from '../../src/stores/table';
import { azuriteTable } from '../support/azurite';
import { MemoryTable } from './memoryTable';

type Step = (client: TableClient, etags: Map<string, string>) => Promise<unknown>;

/** What a call answered: its value without ETag values and service-only fields, or its status. */
async function answer(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return clean(await run());
  } catch (error) {
    return { status: (error as { statusCode?: number }).statusCode };
  }
}
function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'etag' || k === 'timestamp' || k === 'odata.metadata' || k === 'date' || k === 'clientRequestId')
        continue;
      if (k === 'requestId' || k === 'version' || k === 'subResponses' || k === 'status') continue;
      out[k] = clean(v);
    }
    return out;
  }
  return value;
}
const rowsOf = async (client: TableClient, filter?: string, select?: string[]) => {
  const rows: unknown[] = [];
  for await (const e of client.listEntities({ queryOptions: { filter, select } })) rows.push(e);
  return rows;
};
const remember = (etags: Map<string, string>, key: string) => (r: { etag?: string }) => {
  etags.set(key, r.etag ?? '');
  return 'ok';
};
/** A write's answer is what it did, not the SDK's response object. */
const ok = () => 'ok';

const steps: Array<[string, Step]> = [
  [
    'create',
    (c, e) =>
      c.createEntity({ partitionKey: 'p1', rowKey: 'a', s: 'x', n: asDouble(5), b: true }).then(remember(e, 'a')),
  ],
  ['create again: 409', (c) => c.createEntity({ partitionKey: 'p1', rowKey: 'a' }).then(ok)],
  ['read missing: 404', (c) => c.getEntity('p1', 'zz')],
  ['read', (c) => c.getEntity('p1', 'a')],
  [
    'update with a stale etag: 412',
    (c) =>
      c.updateEntity({ partitionKey: 'p1', rowKey: 'a', s: 'y' }, 'Replace', {
        etag: 'W/"datetime\'2020-01-01T00%3A00%3A00.0000000Z\'"',
      }),
  ],
  [
    'update with its etag (merge)',
    (c, e) => c.updateEntity({ partitionKey: 'p1', rowKey: 'a', s: 'y' }, 'Merge', { etag: e.get('a') }).then(ok),
  ],
  ['after merge', (c) => c.getEntity('p1', 'a')],
  ['replace without etag', (c) => c.updateEntity({ partitionKey: 'p1', rowKey: 'a', s: "it's" }, 'Replace').then(ok)],
  ['after replace', (c) => c.getEntity('p1', 'a')],
  ['update missing: 404', (c) => c.updateEntity({ partitionKey: 'p1', rowKey: 'nope', s: 'x' }, 'Replace')],
  [
    'upsert new',
    (c) =>
      c.upsertEntity({ partitionKey: 'p2', rowKey: 'b', bin: new Uint8Array([1, 2, 3]), n: asDouble(7.5) }).then(ok),
  ],
  ['delete missing: 404', (c) => c.deleteEntity('p2', 'nope')],
  [
    'a transaction with one refused operation changes nothing',
    (c) =>
      c
        .submitTransaction([
          ['create', { partitionKey: 'p1', rowKey: 'c', s: 'c' }],
          ['create', { partitionKey: 'p1', rowKey: 'a' }],
        ] as TransactionAction[])
        .then(ok),
  ],
  ['p1 after the refused transaction', (c) => rowsOf(c, odata`PartitionKey eq ${'p1'}`)],
  [
    'a transaction of create, upsert, update and delete',
    (c) =>
      c
        .submitTransaction([
          ['create', { partitionKey: 'p3', rowKey: '1', s: 'x', n: asDouble(1) }],
          ['create', { partitionKey: 'p3', rowKey: '2', s: 'y', n: asDouble(2) }],
          ['upsert', { partitionKey: 'p3', rowKey: '3', s: 'z', n: asDouble(3) }, 'Replace'],
        ] as TransactionAction[])
        .then(ok),
  ],
  [
    'then update and delete in one',
    (c) =>
      c
        .submitTransaction([
          ['update', { partitionKey: 'p3', rowKey: '1', s: 'x2', n: asDouble(1) }, 'Replace'],
          ['delete', { partitionKey: 'p3', rowKey: '3' }],
        ] as TransactionAction[])
        .then(ok),
  ],
  ['everything, in key order', (c) => rowsOf(c)],
  ['a key range', (c) => rowsOf(c, [odata`PartitionKey eq ${'p3'}`, odata`RowKey gt ${'1'}`].join(' and '))],
  ['or within and', (c) => rowsOf(c, `(${odata`s eq ${'x2'}`} or ${odata`s eq ${'y'}`}) and n ge 2.0`)],
  ['a number', (c) => rowsOf(c, 'n eq 7.5')],
  ['a quote in a string', (c) => rowsOf(c, odata`s eq ${"it's"}`)],
  ['a property some rows lack', (c) => rowsOf(c, odata`s eq ${'y'}`)],
  ['ne leaves out rows without the property', (c) => rowsOf(c, odata`s ne ${'y'}`)],
  ['not', (c) => rowsOf(c, `not (${odata`PartitionKey eq ${'p3'}`})`)],
  ['select', (c) => rowsOf(c, odata`PartitionKey eq ${'p3'}`, ['RowKey', 's'])],
  [
    'pages of two',
    async (c) => {
      const pages: unknown[][] = [];
      for await (const page of c.listEntities().byPage({ maxPageSize: 2 })) pages.push([...page]);
      return pages;
    },
  ],
];

describe('the in-memory table', () => {
  it('answers every operation as Azurite does', async () => {
    const azurite = azuriteTable(`mem${randomBytes(6).toString('hex')}`);
    await azurite.createTable();
    const memory = new MemoryTable().client();
    const fromAzurite: unknown[] = [];
    const fromMemory: unknown[] = [];
    const [azuriteEtags, memoryEtags] = [new Map<string, string>(), new Map<string, string>()];
    for (const [name, step] of steps) {
      fromAzurite.push([name, await answer(() => step(azurite, azuriteEtags))]);
      fromMemory.push([name, await answer(() => step(memory, memoryEtags))]);
    }
    expect(fromMemory).toEqual(fromAzurite);
  });
});
