// Storage briefly unreachable (a cut TCP proxy in front of Azurite): no change is lost, none is doubled.
import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/azurite';
import { deliveryId } from '../../src/model/pushBody';
import { encodeQueueMessage } from '../../src/platform/storageClients';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { azurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { TcpProxy } from '../support/tcpProxy';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
let bc: BusinessCentralFake;
const proxies = { queue: new TcpProxy(azurite().queuePort), table: new TcpProxy(azurite().tablePort) };
const failedInvocations = () =>
  app.logs.filter((l) => /Executed 'Functions\.appointmentChanged' \(Failed/.test(l)).length;

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', 'outage-key-123');
  await bc.start();
  const ports = { blob: 1, queue: await proxies.queue.start(), table: await proxies.table.start() };
  app = await startTestApp({
    env: { AzureWebJobsStorage: azuriteConnectionString(ports) },
    // An invocation that fails while the queue is unreachable cannot make its message visible again; it comes
    // back when the receive's visibility runs out: the host's 10 minutes, shortened here to 10 s.
    hostSettings: { queues: { receiveVisibilityMs: 10_000 } },
  });
});
afterAll(async () => {
  await app?.stop();
  await bc.stop();
  await proxies.queue.cut();
  await proxies.table.cut();
});

async function connector(): Promise<string> {
  const created = await app.fetch('/api/connectors', {
    method: 'POST',
    json: {
      name: 'outage',
      sourceApp: 'OUTAGE',
      backOffice: 'bc-onprem',
      webServiceUri: `${bc.url}/BC/api/x/appointments`,
      login: 'SVC',
      password: 'outage-key-123',
    },
  });
  return (await jsonOf(created)).id;
}
const direct = () => new QueueClient(azurite().connectionString, app.env.APPOINTMENTS_QUEUE!);
const make = () => ({
  schemaVersion: 1,
  messageId: randomUUID(),
  databaseAction: 'I',
  revision: 1,
  occurredAt: '2026-11-28T09:00:00Z',
  appointment: {
    appointmentId: 7,
    appointmentGuid: randomUUID(),
    sourceApp: 'OUTAGE',
    jobNo: 'J',
    taskNo: 'T',
    start: '2026-11-30T08:00:00Z',
    end: '2026-11-30T09:00:00Z',
  },
});

async function rowOf(id: string) {
  const res = await app.fetch(`/api/deliveries/${id}`);
  return res.status === 200 ? jsonOf(res) : undefined;
}

it('delivers a change exactly once although storage goes away mid-delivery and while it waits in the queue', async () => {
  const id = await connector();
  const direct_ = direct();

  // 1. Storage goes away while the back office is answering: the handler fails, the host retries later.
  bc.latencyMs = 800;
  const first = make();
  await direct_.sendMessage(encodeQueueMessage(first));
  await eventually(() => bc.requests.length >= 1);
  const failedBefore = failedInvocations();
  await proxies.queue.cut();
  await proxies.table.cut();
  await eventually(() => failedInvocations() > failedBefore, 60_000);
  bc.latencyMs = 0;
  // 2. A second change arrives while the app cannot reach storage at all: the listener cannot even receive.
  const second = make();
  await direct_.sendMessage(encodeQueueMessage(second));
  const receiveFailures = app.logs.filter((l) => l.includes('receive failed')).length;
  await eventually(() => app.logs.filter((l) => l.includes('receive failed')).length > receiveFailures, 60_000);
  await proxies.queue.restore();
  await proxies.table.restore();

  for (const c of [first, second]) {
    const rowId = deliveryId(id, c.appointment.appointmentGuid, 1);
    // Generous: the message may come back only when its receive visibility (10 s) runs out, and a slot the failed
    // invocation could not give back is held for its lease (15 s).
    await eventually(async () => ['delivered', 'duplicate'].includes((await rowOf(rowId))?.status), 90_000);
    expect(bc.insertOrder.filter((k) => k === rowId)).toHaveLength(1);
  }
}, 240_000);

it('retries a change the host gave up on during a table outage (poisoned), and delivers it once tables are back', async () => {
  const id = await connector();
  const change = make();
  const rowId = deliveryId(id, change.appointment.appointmentGuid, 1);
  await proxies.table.cut();
  try {
    await direct().sendMessage(encodeQueueMessage(change));
    // The queue is reachable, tables are not: every invocation fails until the host moves it to the poison queue.
    await eventually(() => app.logs.some((l) => l.includes('Message has reached MaxDequeueCount')), 60_000);
  } finally {
    await proxies.table.restore();
  }
  const row = await eventually(async () => {
    const found = await rowOf(rowId);
    return found?.status === 'delivered' ? found : undefined;
  }, 60_000);
  expect(row.history.map((h: { code: string }) => h.code)).toEqual(['sync.poisoned', 'delivered']);
  expect(bc.insertOrder.filter((k) => k === rowId)).toHaveLength(1);
}, 120_000);
