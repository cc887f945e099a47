// The delivery log with 100,000 rows in Azurite: the first page (50, newest first) of each filter the API
// offers, through the store the app uses, p50/p99. Beside it, the layout it replaced: rows keyed by id, the
// filter as a property query, which must read every matching row to find the newest 50.
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { startAzuriteOnFreePorts } from '../../src/local/azurite';
import type { DeliveryStatus } from '../../src/model/delivery';
import { createDeliveryStore, type DeliveryFilter, type StoredDelivery } from '../../src/stores/deliveryStore';
import { TableBatcher } from '../../src/stores/tableBatcher';
import { percentile, printTable } from './report';

const ROWS = Number(process.env.BENCH_LOG_ROWS ?? 100_000);
const QUERIES = Number(process.env.BENCH_LOG_QUERIES ?? 200);
const BASELINE_QUERIES = Math.min(20, QUERIES);
const PAGE = 50;
const SOURCE_APPS = 8;
const CONNECTORS_PER_APP = 5;
const DAY = 86_400_000;
const DAYS = 30;

function row(i: number, connectorId: string, sourceApp: string, at: number): StoredDelivery {
  const failed = Math.floor(i / SOURCE_APPS) % 50 === 0; // 2 % of each source app's rows
  const stamp = new Date(at).toISOString();
  return {
    id: randomUUID(),
    messageId: randomUUID(),
    traceId: null,
    connectorId,
    connectorName: 'bench',
    sourceApp,
    sourceType: null,
    appointmentId: i,
    appointmentGuid: randomUUID(),
    revision: 1,
    databaseAction: 'I',
    status: (failed ? 'failed' : 'delivered') as DeliveryStatus,
    attempts: 1,
    lastHttpStatus: failed ? 401 : 201,
    code: failed ? 'auth.rejected' : 'delivered',
    message: null,
    durationMs: 20,
    nextAttemptAt: null,
    instance: null,
    createdAt: stamp,
    updatedAt: stamp,
    history: [],
    change: null,
  };
}

async function timed(count: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

export async function benchDeliveryLog(): Promise<void> {
  const azurite = await startAzuriteOnFreePorts();
  try {
    const options = { allowInsecureConnection: true };
    const client = TableClient.fromConnectionString(azurite.connectionString, 'benchdeliveries', options);
    const flat = TableClient.fromConnectionString(azurite.connectionString, 'benchflatlog', options);
    await client.createTable();
    await flat.createTable();
    const table = async () => client;
    const store = createDeliveryStore(table, new TableBatcher(table));
    const apps = Array.from({ length: SOURCE_APPS }, (_, a) => ({
      sourceApp: `LOGAPP${a}`,
      connectors: Array.from({ length: CONNECTORS_PER_APP }, () => randomUUID()),
    }));
    const end = Date.now();
    const start = end - DAYS * DAY;

    // Fill both layouts with the same rows, oldest first, many at once.
    const filled = performance.now();
    const flatBatcher = new TableBatcher(async () => flat);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < ROWS; i = next++) {
        const app = apps[i % SOURCE_APPS]!;
        const at = start + Math.floor((i / ROWS) * DAYS * DAY);
        const r = row(i, app.connectors[Math.floor(i / SOURCE_APPS) % CONNECTORS_PER_APP]!, app.sourceApp, at);
        await store.insert(r, at);
        const { id, connectorId, sourceApp, status, code, createdAt } = r;
        await flatBatcher.submit({
          kind: 'create',
          entity: { partitionKey: `b${i % 64}`, rowKey: id, connectorId, sourceApp, status, code, createdAt },
        });
      }
    };
    await Promise.all(Array.from({ length: 128 }, worker));
    const fillSeconds = (performance.now() - filled) / 1000;

    const app = apps[3]!;
    const filters: Array<[string, DeliveryFilter]> = [
      ['everything', {}],
      ['one source app', { sourceApp: app.sourceApp.toLowerCase() }],
      ['one connector', { connectorId: app.connectors[2]! }],
      ['one source app, failed (2 %)', { sourceApp: app.sourceApp, status: 'failed' }],
      [
        'one connector, one day 10 days ago',
        { connectorId: app.connectors[1]!, from: new Date(end - 10 * DAY), to: new Date(end - 9 * DAY) },
      ],
    ];
    const rows: string[][] = [];
    for (const [name, filter] of filters) {
      let items = 0;
      const samples = await timed(QUERIES, async () => {
        items = (await store.list(filter, { size: PAGE })).items.length;
      });
      rows.push([name, String(items), percentile(samples, 50).toFixed(1), percentile(samples, 99).toFixed(1)]);
    }
    // The old layout: a property filter over every row, sorted in memory to find the newest 50.
    const scanNewest = async (filter: string) => {
      const found: Array<{ createdAt: string }> = [];
      for await (const e of flat.listEntities<{ createdAt: string }>({
        queryOptions: { filter, select: ['createdAt'] },
      }))
        found.push(e);
      return found.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).slice(0, PAGE).length;
    };
    for (const [name, filter] of [
      ['one source app (property scan)', `sourceApp eq '${app.sourceApp}'`],
      ['one source app, failed (property scan)', `sourceApp eq '${app.sourceApp}' and status eq 'failed'`],
    ] as const) {
      let items = 0;
      const samples = await timed(BASELINE_QUERIES, async () => {
        items = await scanNewest(filter);
      });
      rows.push([name, String(items), percentile(samples, 50).toFixed(1), percentile(samples, 99).toFixed(1)]);
    }
    printTable(
      `Delivery log: ${ROWS.toLocaleString('en')} rows (${SOURCE_APPS} source apps x ${CONNECTORS_PER_APP} connectors, ${DAYS} days, filled in ${fillSeconds.toFixed(0)} s), the first page of ${PAGE}, newest first (${QUERIES} queries each; the scans ${BASELINE_QUERIES})`,
      ['filter', 'rows', 'p50 ms', 'p99 ms'],
      rows,
    );
  } finally {
    await azurite.stop();
  }
}
