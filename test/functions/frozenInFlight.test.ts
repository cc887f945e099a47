// A change in flight when storage freezes (connections accepted, nothing said): the invocation gives up within
// its bound (DEPENDENCY_TIMEOUT_SECONDS, 6 here rather than the default 30) and the host tries the message
// again; after the thaw the change lands once. Tables sit behind a TCP proxy that freezes.
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/azurite';
import { deliveryId } from '../../src/model/pushBody';
import { encodeQueueMessage } from '../../src/platform/storageClients';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { azurite } from '../support/azurite';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { TcpProxy } from '../support/tcpProxy';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
let bc: BusinessCentralFake;
const tables = new TcpProxy(azurite().tablePort);

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', 'frozen-access-key-1');
  await bc.start();
  const ports = { blob: 1, queue: azurite().queuePort, table: await tables.start() };
  app = await startTestApp({
    env: { AzureWebJobsStorage: azuriteConnectionString(ports), DEPENDENCY_TIMEOUT_SECONDS: '6' },
  });
});
afterAll(async () => {
  tables.thaw();
  await app?.stop();
  await bc.stop();
  await tables.cut();
});

it('a change in flight is retried, never lost, when tables freeze under it: the invocation gives up, the change lands once after the thaw', async () => {
  const id = (
    await jsonOf(
      await app.fetch('/api/connectors', {
        method: 'POST',
        json: {
          name: 'frozen',
          sourceApp: 'FROZENQ',
          backOffice: 'bc-onprem',
          webServiceUri: `${bc.url}/BC/api/x/appointments`,
          login: 'SVC',
          password: 'frozen-access-key-1',
        },
      }),
    )
  ).id;
  const failedBefore = app.logs.filter((l) => /Executed 'Functions\.appointmentChanged' \(Failed/.test(l)).length;
  tables.freeze();
  const change = changeMessage('FROZENQ');
  await new QueueClient(azurite().connectionString, app.env.APPOINTMENTS_QUEUE!).sendMessage(
    encodeQueueMessage(change),
  );
  // The invocation gives up on its own (no thaw yet): the host will try the message again.
  await eventually(
    () => app.logs.filter((l) => /Executed 'Functions\.appointmentChanged' \(Failed/.test(l)).length > failedBefore,
    45_000,
    200,
  );
  tables.thaw();
  const rowId = deliveryId(id, change.appointment.appointmentGuid, 1);
  const row = await eventually(async () => {
    const res = await app.fetch(`/api/deliveries/${rowId}`);
    const found = res.status === 200 ? await jsonOf(res) : undefined;
    return found?.status === 'delivered' ? found : undefined;
  }, 45_000);
  expect(row.attempts).toBe(1);
  expect(bc.insertOrder.filter((k) => k === rowId)).toHaveLength(1);
}, 120_000);
