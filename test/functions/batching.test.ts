// Business Central REST connectors get OData $batch: changes waiting for one connector go as one request, each
// operation's answer is its own change's outcome, and a server without $batch gets the changes one by one.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/model/pushBody';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const KEY = 'batching-access-key-42';
let app: TestApp;
let bc: BusinessCentralFake;

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', KEY);
  await bc.start();
  // A longer linger than the default so a test's changes surely meet in one batch on a busy machine.
  app = await startTestApp({ env: { SYNC_BATCH_LINGER_MS: '400' } });
});
afterEach(() => {
  bc.batchSupported = true;
  bc.faultsFor.clear();
  bc.batchAnswers.length = 0;
});
afterAll(async () => {
  await app?.stop();
  await bc.stop();
});

async function connector(sourceApp: string): Promise<string> {
  const res = await app.fetch('/api/connectors', {
    method: 'POST',
    json: {
      name: 'batching',
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: 'SVC',
      password: KEY,
    },
  });
  return (await jsonOf(res)).id;
}

const newApp = () => `BATCH${randomBytes(4).toString('hex').toUpperCase()}`;

async function settledRows(sourceApp: string, count: number) {
  return eventually(async () => {
    const page = await jsonOf(await app.fetch(`/api/deliveries?sourceApp=${sourceApp}&pageSize=1000`));
    return page.items.length === count && page.items.every((r: { status: string }) => r.status !== 'retrying')
      ? (page.items as Array<Record<string, unknown>>)
      : undefined;
  }, 60_000);
}

const batchRequests = () => bc.requests.filter((r) => r.path.endsWith('/$batch'));

describe('OData $batch', () => {
  it('sends changes that wait together as one $batch to {apiRoot}/$batch, each delivered on its own row', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp);
    const before = batchRequests().length;
    const changes = Array.from({ length: 10 }, () => changeMessage(sourceApp));
    await app.fetch('/api/appointments', { method: 'POST', json: changes });
    const rows = await settledRows(sourceApp, 10);
    expect(rows.every((r) => r.status === 'delivered')).toBe(true);
    const batches = batchRequests().slice(before);
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(batches.length).toBeLessThan(10);
    const first = batches[0]!;
    expect(first.path).toBe('/BC/api/dimeSoftware/dimeScheduler/v1.0/$batch');
    const body = JSON.parse(first.body) as { requests: Array<Record<string, unknown>> };
    expect(body.requests[0]).toMatchObject({
      method: 'POST',
      id: '1',
      url: 'companies(1)/appointments',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': expect.any(String) },
    });
    expect(first.headers.isolation).toBeUndefined();
    for (const c of changes) expect(bc.inserted.has(deliveryId(id, c.appointment.appointmentGuid, 1))).toBe(true);
  });

  it('gives each operation its own outcome: one duplicate, one 400 and one 503 in the same batch', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp);
    const [dup, bad, busy, fine] = Array.from({ length: 4 }, () => changeMessage(sourceApp));
    const idOf = (c: ReturnType<typeof changeMessage>) => deliveryId(id, c.appointment.appointmentGuid, 1);
    bc.inserted.set(idOf(dup!), { id: idOf(dup!) }); // the back office has it already
    bc.faultsFor.set(idOf(bad!), {
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'Application_FieldValidationException', message: 'Job No. must exist.' } }),
    });
    bc.faultsFor.set(idOf(busy!), { status: 503 });
    await app.fetch('/api/appointments', { method: 'POST', json: [dup, bad, busy, fine] });
    const rows = await settledRows(sourceApp, 4);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(idOf(dup!))).toMatchObject({ status: 'duplicate', lastHttpStatus: 400 });
    expect(byId.get(idOf(bad!))).toMatchObject({ status: 'failed', code: 'http.rejected', lastHttpStatus: 400 });
    expect(String(byId.get(idOf(bad!))!.message)).toContain('Job No. must exist.');
    expect(byId.get(idOf(busy!))).toMatchObject({ status: 'delivered', attempts: 2 }); // retried alone, then delivered
    expect(byId.get(idOf(fine!))).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('sends only the newest of two revisions of one appointment that meet in a batch; the older is stale', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp);
    const guid = randomUUID();
    const older = changeMessage(sourceApp, { revision: 3, appointment: { appointmentGuid: guid } });
    const newer = changeMessage(sourceApp, {
      revision: 4,
      databaseAction: 'U',
      appointment: { appointmentGuid: guid },
    });
    await app.fetch('/api/appointments', { method: 'POST', json: [older, newer] });
    const rows = await settledRows(sourceApp, 2);
    expect(rows.map((r) => [r.revision, r.status]).sort()).toEqual([
      [3, 'stale'],
      [4, 'delivered'],
    ]);
    expect(bc.inserted.has(deliveryId(id, guid, 3))).toBe(false);
  });

  it('falls back to one request per change when the server refuses $batch, and remembers it', async () => {
    bc.batchSupported = false;
    const sourceApp = newApp();
    await connector(sourceApp);
    const before = batchRequests().length;
    await app.fetch('/api/appointments', {
      method: 'POST',
      json: Array.from({ length: 5 }, () => changeMessage(sourceApp)),
    });
    const rows = await settledRows(sourceApp, 5);
    expect(rows.every((r) => r.status === 'delivered')).toBe(true);
    expect(batchRequests().length - before).toBe(1); // tried once
    expect(app.logs.some((l) => l.includes('delivery.batch-refused'))).toBe(true);
    await app.fetch('/api/appointments', {
      method: 'POST',
      json: Array.from({ length: 5 }, () => changeMessage(sourceApp)),
    });
    await settledRows(sourceApp, 10);
    expect(batchRequests().length - before).toBe(1); // not tried again for a while
  });

  // A 2xx that is not a batch response says nothing of the changes: none may be counted delivered on its word.
  // Each case is a connector of its own, since an unconfirmed answer makes the connector send singly for a while.
  it.each([
    ['a proxy answering 204', { status: 204 }],
    ['an OData respond-async 202', { status: 202, headers: { location: 'https://bc.example/monitor/1' }, body: '' }],
    ['a 201 without a body', { status: 201 }],
    [
      'a 200 naming one operation twice',
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          responses: [
            { id: '1', status: 201, body: {} },
            { id: '1', status: 201, body: {} },
            { id: '2', status: 201, body: {} },
            { id: '3', status: 201, body: {} },
          ],
        }),
      },
    ],
    [
      'a 200 naming an operation that was not sent',
      {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ responses: ['1', '2', '3', '9'].map((id) => ({ id, status: 201, body: {} })) }),
      },
    ],
  ])('never counts a change delivered on %s: they go again one by one and land', async (_case, answer) => {
    const sourceApp = newApp();
    const id = await connector(sourceApp);
    bc.batchAnswers.push(answer);
    const before = batchRequests().length;
    const changes = Array.from({ length: 3 }, () => changeMessage(sourceApp));
    await app.fetch('/api/appointments', { method: 'POST', json: changes });
    const rows = await settledRows(sourceApp, 3);
    expect(batchRequests().length - before).toBe(1);
    expect(bc.batchAnswers).toHaveLength(0); // the scripted answer was the one given
    for (const c of changes) {
      const rowId = deliveryId(id, c.appointment.appointmentGuid, 1);
      // Delivered, and the back office really has it: each went again as a request of its own.
      expect(rows.find((r) => r.id === rowId)).toMatchObject({ status: 'delivered', lastHttpStatus: 201 });
      expect(bc.inserted.has(rowId)).toBe(true);
    }
    expect(app.logs.some((l) => l.includes('delivery.batch-refused') && l.includes(`"connectorId":"${id}"`))).toBe(
      true,
    );
  });
});
