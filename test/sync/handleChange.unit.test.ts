// One change from the queue to its delivery-log rows, in process (test/support/unitApp.ts): routing, skipping,
// no connector, malformed messages, retries, ordering and redelivery, with the real stores on in-memory tables.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/model/pushBody';
import { MAX_QUEUE_MESSAGE_BYTES, queuedBytes } from '../../src/queues/syncQueues';
import { changeMessage } from '../support/changes';
import { createUnitApp } from '../support/unitApp';

const rowsOf = async (app: ReturnType<typeof createUnitApp>, filter: Record<string, unknown> = {}) =>
  (await app.services.sync.listDeliveries(filter, { size: 1000 })).items;

describe('handleChange', () => {
  it('sends a change to every connector of its source app, one row each, and remembers it as the latest revision', async () => {
    const app = createUnitApp();
    const rest = await app.connector({ name: 'rest' });
    const hook = await app.connector({
      name: 'hook',
      backOffice: 'webhook',
      webServiceUri: 'https://hooks.example.com/dime',
      login: null,
      password: null,
    });
    const change = changeMessage('BCCRONUSUS');
    await app.services.sync.handleChange(app.message(change), app.log);
    const guid = change.appointment.appointmentGuid;
    const rows = await rowsOf(app, { messageId: change.messageId });
    expect(rows.map((r) => [r.connectorName, r.status, r.code, r.attempts, r.lastHttpStatus]).sort()).toEqual([
      ['hook', 'delivered', 'delivered', 1, 201],
      ['rest', 'delivered', 'delivered', 1, 201],
    ]);
    expect(app.backOffice.sentIds().sort()).toEqual(
      [deliveryId(hook.id, guid, 1), deliveryId(rest.id, guid, 1)].sort(),
    );
    expect(app.backOffice.requests.map((r) => r.url).sort()).toEqual([
      'https://bc.example.com/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments',
      'https://hooks.example.com/dime',
    ]);
    const latest = await app.services.sync.deps.latest.page('bccronusus', { sourceType: null }, { size: 10 });
    expect(latest.items.map((c) => [c.appointment.appointmentGuid, c.revision])).toEqual([[guid, 1]]);
    expect(app.queues.workItems).toEqual([]);
  });

  it('records "no connector" for a source app nobody takes, with the reason', async () => {
    const app = createUnitApp();
    await app.connector({ sourceType: 'PROJECT' });
    const change = changeMessage('BCCRONUSUS'); // source type SERVICE
    await app.services.sync.handleChange(app.message(change), app.log);
    expect((await rowsOf(app)).map((r) => [r.status, r.code, r.message, r.connectorId])).toEqual([
      ['no-connector', 'sync.no-connector', 'no connector has source app BCCRONUSUS and source type SERVICE', null],
    ]);
    expect(app.backOffice.requests).toEqual([]);
  });

  it('skips a connector that does not send, or not this action, and says which', async () => {
    const app = createUnitApp();
    await app.connector({ name: 'off', sendAppointments: false });
    await app.connector({ name: 'no deletes', databaseActions: ['I', 'U'] });
    await app.services.sync.handleChange(app.message(changeMessage('BCCRONUSUS', { databaseAction: 'D' })), app.log);
    expect((await rowsOf(app)).map((r) => [r.connectorName, r.status, r.code, r.message]).sort()).toEqual([
      ['no deletes', 'skipped-action', 'sync.action-not-sent', 'the connector does not send action D'],
      ['off', 'skipped-disabled', 'sync.sending-disabled', 'sendAppointments is false'],
    ]);
    expect(app.backOffice.requests).toEqual([]);
  });

  it('records a malformed message once as failed, naming the fields, and never retries it', async () => {
    const app = createUnitApp();
    await app.connector();
    const bad = { ...changeMessage('BCCRONUSUS'), revision: -1, appointment: { sourceApp: 'BCCRONUSUS' } };
    await app.services.sync.handleChange(app.message(bad), app.log);
    const [row] = await rowsOf(app);
    expect(row).toMatchObject({ status: 'failed', code: 'sync.malformed', connectorId: null, attempts: 0 });
    expect(row!.message).toContain('revision: must be at least 0');
    expect(row!.message).toContain('appointment.appointmentId');
    expect(app.queues.workItems).toEqual([]);
  });

  it('retries a transient answer on the retry queue for that connector alone, and delivers it on the next attempt', async () => {
    const app = createUnitApp();
    const flaky = await app.connector({
      name: 'flaky',
      webServiceUri: 'https://flaky.example.com/hook',
      backOffice: 'webhook',
      login: null,
      password: null,
    });
    await app.connector({ name: 'fine' });
    app.backOffice.answer((r) =>
      r.url.startsWith('https://flaky.') ? { status: 503, headers: { 'retry-after': '0' } } : undefined,
    );
    const change = changeMessage('BCCRONUSUS');
    await app.services.sync.handleChange(app.message(change), app.log);
    expect(app.queues.workItems.map((w) => [w.item.connectorId, w.item.attempt, w.item.mode])).toEqual([
      [flaky.id, 1, 'retry'],
    ]);
    const id = deliveryId(flaky.id, change.appointment.appointmentGuid, 1);
    expect(await app.services.sync.getDelivery(id)).toMatchObject({
      status: 'retrying',
      code: 'http.server-error',
      attempts: 1,
    });
    await app.drain();
    const row = await app.services.sync.getDelivery(id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(row.history.map((h) => [h.attempt, h.code])).toEqual([
      [1, 'http.server-error'],
      [2, 'delivered'],
    ]);
  });

  it('fails a permanent answer at once with its code and the back office message', async () => {
    const app = createUnitApp();
    await app.connector();
    app.backOffice.answer(() => ({
      status: 400,
      body: JSON.stringify({ error: { code: 'Application_FieldValidationException', message: 'Job No. must exist.' } }),
    }));
    await app.services.sync.handleChange(app.message(changeMessage('BCCRONUSUS')), app.log);
    const [row] = await rowsOf(app);
    expect(row).toMatchObject({
      status: 'failed',
      code: 'http.rejected',
      lastHttpStatus: 400,
      message: 'Application_FieldValidationException: Job No. must exist.',
    });
    expect(app.queues.workItems).toEqual([]);
  });

  it('never sends an older revision after a newer one: it is stale, with the reason', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    const guid = randomUUID();
    await app.services.sync.handleChange(
      app.message(changeMessage('BCCRONUSUS', { revision: 5, appointment: { appointmentGuid: guid } })),
      app.log,
    );
    await app.services.sync.handleChange(
      app.message(changeMessage('BCCRONUSUS', { revision: 4, appointment: { appointmentGuid: guid } })),
      app.log,
    );
    expect(await app.services.sync.getDelivery(deliveryId(c.id, guid, 4))).toMatchObject({
      status: 'stale',
      code: 'sync.stale',
      message: 'revision 5 was already sent (this is revision 4)',
    });
    expect(app.backOffice.sentIds()).toEqual([deliveryId(c.id, guid, 5)]);
  });

  it('answers a redelivered message from its row: nothing is sent again, the row still says delivered', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    const change = changeMessage('BCCRONUSUS');
    await app.services.sync.handleChange(app.message(change), app.log);
    await app.services.sync.handleChange(app.message(change), app.log);
    expect(app.backOffice.sentIds()).toHaveLength(1);
    expect(await app.services.sync.getDelivery(deliveryId(c.id, change.appointment.appointmentGuid, 1))).toMatchObject({
      status: 'delivered',
      attempts: 1,
    });
    expect(app.lines.some((l) => l.includes('delivery.redelivered'))).toBe(true);
  });

  it('hands the message back to the host when a row cannot be written, after every connector had its try', async () => {
    const app = createUnitApp();
    await app.connector({ name: 'a' });
    await app.connector({
      name: 'b',
      webServiceUri: 'https://other.example.com/hook',
      backOffice: 'webhook',
      login: null,
      password: null,
    });
    app.tables.get('deliveries').beforeRequest = (kind) => {
      if (kind === 'createEntity' || kind === 'submitTransaction')
        throw Object.assign(new Error('down'), { statusCode: 503 });
    };
    await expect(app.services.sync.handleChange(app.message(changeMessage('BCCRONUSUS')), app.log)).rejects.toThrow(
      'Table storage failed',
    );
    expect(app.backOffice.sentIds()).toHaveLength(2);
  });

  it('fails a change a producer queued that fits a message but not a retry, with the reason, instead of looping', async () => {
    const app = createUnitApp();
    await app.connector();
    app.backOffice.answer(() => ({ status: 503 }));
    // The largest change that still fits one queue message (65,536 bytes of base64): the longest body of euro
    // signs, and the longest subject beside it that fits.
    let length = 0;
    const sized = (n: number) =>
      changeMessage('BCCRONUSUS', { appointment: { subject: 'x'.repeat(n), body: '€'.repeat(16_000) } });
    while (queuedBytes(sized(length + 10)) <= MAX_QUEUE_MESSAGE_BYTES) length += 10;
    const change = sized(length);
    expect(queuedBytes(change)).toBeLessThanOrEqual(MAX_QUEUE_MESSAGE_BYTES);
    await app.services.sync.handleChange(app.message(change), app.log);
    const [row] = await rowsOf(app);
    expect(row).toMatchObject({ status: 'failed', code: 'sync.too-large', attempts: 1 });
    expect(row!.message).toMatch(
      /^cannot be retried: it is [\d,]+ bytes on the queue; a change may take at most 65,536/,
    );
    expect(app.queues.workItems).toEqual([]);
  });
});
