// Connector writes under faults and races: a failed table write at each step of a replace leaves the routing
// right (undone, or converged on the record), and a delete without If-Match never loses to concurrent PUTs.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/azurite';
import { sourceAppKey } from '../../src/model/text';
import { tableNames } from '../../src/platform/resourceNames';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { azurite } from '../support/azurite';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { FaultyProxy } from '../support/faultyProxy';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
let bc: BusinessCentralFake;
const tables = new FaultyProxy(azurite().tablePort);

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', 'consistency-key-1');
  await bc.start();
  const ports = { blob: 1, queue: azurite().queuePort, table: await tables.start() };
  app = await startTestApp({ env: { AzureWebJobsStorage: azuriteConnectionString(ports) } });
});
afterAll(async () => {
  await app?.stop();
  await tables.stop();
  await bc.stop();
});

const newApp = () => `CONS${randomBytes(4).toString('hex').toUpperCase()}`;
const body = (sourceApp: string) => ({
  name: 'consistency',
  sourceApp,
  backOffice: 'bc-onprem',
  webServiceUri: `${bc.url}/BC/api/x/companies(1)/appointments`,
  login: 'SVC',
  password: 'consistency-key-1',
});

async function create(sourceApp: string): Promise<string> {
  const res = await app.fetch('/api/connectors', { method: 'POST', json: body(sourceApp) });
  expect(res.status).toBe(201);
  return (await jsonOf(res)).id;
}

/** Where a change of this source app goes: the connectors that got it, or "no-connector". */
async function routedTo(sourceApp: string): Promise<string[]> {
  const c = changeMessage(sourceApp);
  await app.fetch('/api/appointments', { method: 'POST', json: c });
  const rows = await eventually(async () => {
    const page = await jsonOf(await app.fetch(`/api/deliveries?messageId=${c.messageId}`));
    return page.items.length > 0 && page.items.every((r: { status: string }) => r.status !== 'retrying')
      ? page.items
      : undefined;
  }, 30_000);
  return rows.map((r: { status: string; connectorId: string | null }) =>
    r.status === 'no-connector' ? 'no-connector' : String(r.connectorId),
  );
}

/** This app's connectors table (its name carries the file's table prefix). */
const connectorsTable = () => `${app.env.TABLE_NAME_PREFIX}${tableNames.connectors}`;
const routePath = (sourceApp: string) =>
  new RegExp(`^/devstoreaccount1/${connectorsTable()}\\(PartitionKey='app:${sourceAppKey(sourceApp)}'`);
const recordPath = (id: string) =>
  new RegExp(`^/devstoreaccount1/${connectorsTable()}\\(PartitionKey='${id}',RowKey='connector'\\)`);

describe('PUT that moves a connector to another source app, with a table write failing at each step', () => {
  it('the new route cannot be written: 503, nothing changed, still routed to the old source app', async () => {
    const [a, b] = [newApp(), newApp()];
    const id = await create(a);
    tables.fail({ method: 'PUT', path: routePath(b), times: 20 });
    const res = await app.fetch(`/api/connectors/${id}`, { method: 'PUT', json: body(b) });
    tables.clear();
    expect(res.status).toBe(503);
    expect((await jsonOf(await app.fetch(`/api/connectors/${id}`))).sourceApp).toBe(a);
    expect(await routedTo(a)).toEqual([id]);
    expect(await routedTo(b)).toEqual(['no-connector']);
  }, 90_000);

  it('the record cannot be replaced: 503, the new route is taken back, still routed to the old source app', async () => {
    const [a, b] = [newApp(), newApp()];
    const id = await create(a);
    tables.fail({ method: 'PUT', path: recordPath(id), times: 20 });
    const res = await app.fetch(`/api/connectors/${id}`, { method: 'PUT', json: body(b) });
    tables.clear();
    expect(res.status).toBe(503);
    expect((await jsonOf(await app.fetch(`/api/connectors/${id}`))).sourceApp).toBe(a);
    expect(await routedTo(a)).toEqual([id]);
    expect(await routedTo(b)).toEqual(['no-connector']);
  }, 90_000);

  it('the old route cannot be removed: 200, and routing follows the record, not the route left behind', async () => {
    const [a, b] = [newApp(), newApp()];
    const id = await create(a);
    tables.fail({ method: 'DELETE', path: routePath(a), times: 20 });
    const res = await app.fetch(`/api/connectors/${id}`, { method: 'PUT', json: body(b) });
    tables.clear();
    expect(res.status).toBe(200);
    expect(tables.failed.some((f) => f.startsWith('DELETE') && f.includes(sourceAppKey(a)))).toBe(true);
    expect(await routedTo(b)).toEqual([id]);
    expect(await routedTo(a)).toEqual(['no-connector']);
  }, 90_000);
});

describe('concurrent writes', () => {
  it('a DELETE without If-Match succeeds while PUTs race it, never 412', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await create(newApp());
      const puts = Array.from({ length: 6 }, (_, i) =>
        app.fetch(`/api/connectors/${id}`, { method: 'PUT', json: { ...body(newApp()), name: `put ${i}` } }),
      );
      const del = app.fetch(`/api/connectors/${id}`, { method: 'DELETE' });
      const [deleted, ...replaced] = await Promise.all([del, ...puts]);
      expect(deleted!.status).toBe(204);
      for (const r of replaced) expect([200, 404]).toContain(r.status);
      expect((await app.fetch(`/api/connectors/${id}`)).status).toBe(404);
      expect(app.vault.liveNames()).not.toContain(`conn-${id}`); // no secret outlives its connector
    }
  }, 90_000);
});
