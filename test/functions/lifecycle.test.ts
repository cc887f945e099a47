// A starting instance writes its heartbeat before anything calls it, so deep health lists it at once. A stopping
// instance (scale-in, a deployment) gives its Business Central budget slots back when the host terminates the
// app, so the other instances need not wait for its lease (15 s) to run out.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableNames } from '../../src/platform/resourceNames';
import { createBudgetStore } from '../../src/stores/budgetStore';
import { createInstanceStore } from '../../src/stores/instanceStore';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { azuriteTable } from '../support/azurite';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const KEY = 'lifecycle-access-key-7';
let app: TestApp | undefined;
let bc: BusinessCentralFake;
let hostStarted: number;

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', KEY);
  await bc.start();
  bc.latencyMs = 1_000; // the delivery is still on its way when the instance is told to stop
  // The poison sweep daily, not every second: no timer is there to build the services early.
  app = await startTestApp({ env: { POISON_SWEEP_SCHEDULE: '0 0 0 1 1 *' } });
  hostStarted = Date.now();
});
afterAll(async () => {
  await app?.stop();
  await bc.stop();
});

describe('starting an instance', () => {
  it('writes its heartbeat as the host starts, before any call or timer', async () => {
    const table = `${app!.env.TABLE_NAME_PREFIX}${tableNames.instances}`;
    const instances = createInstanceStore(async () => azuriteTable(table));
    const [row] = await eventually(async () => {
      const rows = await instances.seenSince(0).catch(() => []);
      return rows.length ? rows : undefined;
    }, 15_000);
    // Built before the host took its first call: services built by the first invocation start after it is up.
    expect(Date.parse(row!.startedAt)).toBeLessThanOrEqual(hostStarted);
  });
});

describe('stopping an instance', () => {
  it('finishes the request in flight, then holds no budget slot once the host has stopped', async () => {
    const running = app!;
    const sourceApp = `LIFE${randomBytes(4).toString('hex').toUpperCase()}`;
    const created = await running.fetch('/api/connectors', {
      method: 'POST',
      json: {
        name: 'lifecycle',
        sourceApp,
        backOffice: 'bc-onprem',
        webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
        login: 'SVC',
        password: KEY,
      },
    });
    expect(created.status).toBe(201);
    const deep = await jsonOf(await running.fetch('/api/health?deep=true'));
    const instance = (deep.instances as Array<{ id: string; name: string }>).find((i) => i.name === deep.instance)!.id;
    const table = `${running.env.TABLE_NAME_PREFIX}${tableNames.budgets}`; // the app's own, read after it stops
    const budgets = createBudgetStore(async () => azuriteTable(table));
    const principal = `user:${new URL(bc.url).host}:svc`;
    const liveSlots = async () =>
      (await budgets.read(principal)).state.holders.filter((h) => h.id === instance && h.until > Date.now());

    await running.fetch('/api/appointments', { method: 'POST', json: changeMessage(sourceApp) });
    await eventually(() => bc.requests.some((r) => r.path.endsWith('/appointments')), 30_000);
    expect((await liveSlots()).length).toBe(1); // mid-request: a slot under a lease of 15 s

    await running.stop();
    app = undefined;
    expect(bc.inserted.size).toBe(1); // the host let the delivery finish before it stopped
    expect(await liveSlots()).toEqual([]);
  }, 60_000);
});
