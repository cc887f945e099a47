// Storage briefly unreachable (a cut TCP proxy in front of Azurite): no change is lost, none is doubled.
import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { deliveryId } from '../../src/backOffice/pushBody';
import { azuriteConnectionString } from '../../src/local/azurite';
import { encodeQueueMessage } from '../../src/platform/storageClients';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { eventually } from '../support/eventually';
import { TcpProxy } from '../support/tcpProxy';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
let bc: BusinessCentralFake;
const proxies = { queue: new TcpProxy(inject('azuriteQueuePort')), table: new TcpProxy(inject('azuriteTablePort')) };

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', 'outage-key-123');
  await bc.start();
  const ports = { blob: 1, queue: await proxies.queue.start(), table: await proxies.table.start() };
  app = await startTestApp({ env: { AzureWebJobsStorage: azuriteConnectionString(ports) } });
});
afterAll(async () => {
  await app?.stop();
  await bc.stop();
  await proxies.queue.cut();
  await proxies.table.cut();
});

it('delivers a change exactly once although storage goes away mid-delivery and while it waits in the queue', async () => {
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
  const { id } = await jsonOf(created);
  const direct = new QueueClient(inject('azuriteConnectionString'), app.env.APPOINTMENTS_QUEUE!);
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

  // 1. Storage goes away while the back office is answering: the handler fails, the host retries later.
  bc.latencyMs = 800;
  const first = make();
  await direct.sendMessage(encodeQueueMessage(first));
  await eventually(() => bc.requests.length >= 1);
  await proxies.queue.cut();
  await proxies.table.cut();
  await new Promise((r) => setTimeout(r, 1500));
  bc.latencyMs = 0;
  // 2. A second change arrives while the app cannot reach storage at all.
  const second = make();
  await direct.sendMessage(encodeQueueMessage(second));
  await new Promise((r) => setTimeout(r, 1500));
  await proxies.queue.restore();
  await proxies.table.restore();

  for (const c of [first, second]) {
    const rowId = deliveryId(id, c.appointment.appointmentGuid, 1);
    await eventually(async () => {
      const res = await app.fetch(`/api/deliveries/${rowId}`);
      return res.status === 200 && ['delivered', 'duplicate'].includes((await jsonOf(res)).status);
    }, 30_000);
    expect(bc.insertOrder.filter((k) => k === rowId)).toHaveLength(1);
  }
}, 60_000);
