// What comes back through the retry and recovery queues, in process: a retry, a replay, a deleted connector,
// what the host poisoned, and a recover / resync worked off in pages.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { localActor } from '../../src/model/audit';
import { type ConnectorInput, connectorInputSchema, type StoredConnector } from '../../src/model/connector';
import { deliveryId } from '../../src/model/pushBody';
import type { WorkItemMessage } from '../../src/model/workItem';
import { changeMessage, sampleChange } from '../support/changes';
import { createUnitApp } from '../support/unitApp';

const call = { actor: localActor, correlationId: 'unit' };
/** A stored connector as the input a PUT sends back. */
const connectorInput = (c: StoredConnector): ConnectorInput =>
  connectorInputSchema.parse({
    name: c.name,
    sourceApp: c.sourceApp,
    backOffice: c.backOffice,
    webServiceUri: c.webServiceUri,
    login: c.login,
  });
const workItem = (connectorId: string, overrides: Partial<WorkItemMessage> = {}): WorkItemMessage => ({
  kind: 'delivery',
  connectorId,
  attempt: 1,
  firstAttemptAt: Date.now(),
  mode: 'retry',
  change: sampleChange(),
  ...overrides,
});

describe('handleWorkItem', () => {
  it('sends a retry to its connector; the attempt is numbered by the row, which the history agrees with', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    // The item says two attempts were made, but its row (lost with a purge, say) holds none: the row counts.
    const item = workItem(c.id, { attempt: 2 });
    await app.services.sync.handleWorkItem(app.message(item), app.log);
    const row = await app.services.sync.getDelivery(deliveryId(c.id, item.change.appointment.appointmentGuid, 1));
    expect(row).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(row.history.map((h) => h.attempt)).toEqual([1]);
  });

  it('records a delivery whose connector was deleted meanwhile as failed, and sends nothing', async () => {
    const app = createUnitApp();
    const gone = randomUUID();
    const item = workItem(gone);
    await app.services.sync.handleWorkItem(app.message(item), app.log);
    expect(
      await app.services.sync.getDelivery(deliveryId(gone, item.change.appointment.appointmentGuid, 1)),
    ).toMatchObject({
      status: 'failed',
      code: 'sync.connector-deleted',
      message: 'the connector was deleted before this delivery',
    });
    expect(app.backOffice.requests).toEqual([]);
  });

  it('reads a work item written before modes existed (replay: true) as a replay', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    const change = sampleChange();
    await app.services.sync.handleChange(app.message(change), app.log);
    const { mode: _m, ...old } = workItem(c.id, { change });
    await app.services.sync.handleWorkItem(app.message({ ...old, replay: true }), app.log);
    // A replay may send the revision the connector has: the back office answers duplicate.
    expect(app.backOffice.sentIds()).toEqual([
      deliveryId(c.id, change.appointment.appointmentGuid, 1),
      deliveryId(c.id, change.appointment.appointmentGuid, 1),
    ]);
  });
});

describe('replay', () => {
  it('queues a failed change again for its connector; the row says so, and the replay lands', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    const change = changeMessage('BCCRONUSUS');
    app.backOffice.answer(() => ({
      status: 400,
      body: '{"error":{"code":"BadRequest","message":"Job No. must exist."}}',
    }));
    await app.services.sync.handleChange(app.message(change), app.log);
    const id = deliveryId(c.id, change.appointment.appointmentGuid, 1);
    const replayed = await app.services.sync.replay(id, call, app.log);
    expect(replayed).toMatchObject({ status: 'retrying', code: 'sync.replay-queued', message: 'replay queued' });
    expect(app.queues.workItems.map((w) => [w.item.connectorId, w.item.mode, w.item.attempt])).toEqual([
      [c.id, 'replay', 0],
    ]);
    await app.drain();
    const landed = await app.services.sync.getDelivery(id);
    expect(landed).toMatchObject({ status: 'delivered', code: 'delivered', attempts: 2 });
    // The replay's attempt is the row's second, not a first again.
    expect(landed.history.map((h) => [h.attempt, h.code])).toEqual([
      [1, 'http.rejected'],
      [2, 'delivered'],
    ]);
  });

  it('says a replay of a delivered change is queued, and the back office then answers duplicate', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    const change = changeMessage('BCCRONUSUS');
    await app.services.sync.handleChange(app.message(change), app.log);
    const id = deliveryId(c.id, change.appointment.appointmentGuid, 1);
    expect(await app.services.sync.replay(id, call, app.log)).toMatchObject({
      status: 'retrying',
      code: 'sync.replay-queued',
    });
    await app.drain();
    const row = await app.services.sync.getDelivery(id);
    expect(row).toMatchObject({ status: 'duplicate', attempts: 2 });
    expect(row.history.map((h) => [h.attempt, h.outcome])).toEqual([
      [1, 'delivered'],
      [2, 'duplicate'],
    ]);
  });

  it('routes a "no connector" change again once a connector exists', async () => {
    const app = createUnitApp();
    const change = changeMessage('LATEAPP');
    await app.services.sync.handleChange(app.message(change), app.log);
    const [row] = (await app.services.sync.listDeliveries({}, { size: 10 })).items;
    const c = await app.connector({ sourceApp: 'LATEAPP' });
    await app.services.sync.replay(row!.id, call, app.log);
    expect(app.queues.changes.map((x) => x.messageId)).toEqual([change.messageId]);
    await app.drain();
    expect(await app.services.sync.getDelivery(deliveryId(c.id, change.appointment.appointmentGuid, 1))).toMatchObject({
      status: 'delivered',
    });
  });

  it('refuses a row that does not exist (404) or holds no change to send (409 not-replayable)', async () => {
    const app = createUnitApp();
    await expect(app.services.sync.replay(randomUUID(), call, app.log)).rejects.toMatchObject({ status: 404 });
    await app.services.sync.handleChange(app.message({ not: 'a change' }), app.log);
    const [row] = (await app.services.sync.listDeliveries({}, { size: 10 })).items;
    await expect(app.services.sync.replay(row!.id, call, app.log)).rejects.toMatchObject({
      status: 409,
      code: 'not-replayable',
    });
  });
});

describe('the poison sweep', () => {
  it('gives each connector of a poisoned change its own retry on the schedule, counted as an attempt', async () => {
    const app = createUnitApp();
    const [a, b] = [
      await app.connector({ name: 'a' }),
      await app.connector({
        name: 'b',
        webServiceUri: 'https://h.example.com/x',
        backOffice: 'webhook',
        login: null,
        password: null,
      }),
    ];
    const change = changeMessage('BCCRONUSUS');
    const removed = app.queues.poison('changes', JSON.stringify(change));
    expect(await app.services.sync.sweepPoison(app.log)).toBe(1);
    expect(removed.count).toBe(1);
    expect(app.queues.workItems.map((w) => [w.item.connectorId, w.item.attempt]).sort()).toEqual(
      [
        [a.id, 1],
        [b.id, 1],
      ].sort(),
    );
    const row = await app.services.sync.getDelivery(deliveryId(a.id, change.appointment.appointmentGuid, 1));
    expect(row).toMatchObject({ status: 'retrying', code: 'sync.poisoned' });
    await app.drain();
    expect(await app.services.sync.getDelivery(row.id)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('leaves a connector alone that got the change before the crash', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    const change = changeMessage('BCCRONUSUS');
    await app.services.sync.handleChange(app.message(change), app.log);
    app.queues.poison('changes', JSON.stringify(change));
    await app.services.sync.sweepPoison(app.log);
    expect(app.queues.workItems).toEqual([]);
    expect(await app.services.sync.getDelivery(deliveryId(c.id, change.appointment.appointmentGuid, 1))).toMatchObject({
      status: 'delivered',
    });
  });

  it('records what cannot be read as failed with its text, and a poisoned work item goes again', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    app.queues.poison('changes', null, '%%% not base64 %%%');
    app.queues.poison('retries', JSON.stringify(workItem(c.id, { attempt: 1 })));
    expect(await app.services.sync.sweepPoison(app.log)).toBe(2);
    const rows = (await app.services.sync.listDeliveries({ status: 'failed' }, { size: 10 })).items;
    expect(rows.map((r) => [r.code, r.connectorId])).toEqual([['sync.poisoned', null]]);
    expect(app.queues.workItems.map((w) => [w.item.connectorId, w.item.attempt])).toEqual([[c.id, 2]]);
  });

  it('puts a crashed recovery page back a minute later, ten times at most', async () => {
    const app = createUnitApp();
    const page = { kind: 'recovery-page', recoveryId: randomUUID(), page: 3, token: 'x', requeued: 9 };
    app.queues.poison('recoveries', JSON.stringify(page));
    await app.services.sync.sweepPoison(app.log);
    expect(app.queues.recoveryPages).toEqual([{ page: { ...page, requeued: 10 }, delaySeconds: 60 }]);
    app.queues.poison('recoveries', JSON.stringify({ ...page, requeued: 10 }));
    app.queues.recoveryPages.length = 0;
    await app.services.sync.sweepPoison(app.log);
    expect(app.queues.recoveryPages).toEqual([]);
    expect(app.lines.some((l) => l.includes('recovery.page-abandoned'))).toBe(true);
  });
});

describe('recover and resync', () => {
  it('recovers the failed changes of a connector once each, in pages, and counts them', async () => {
    const app = createUnitApp({ SYNC_RETRY_HORIZON_HOURS: '0.0001' });
    const c = await app.connector();
    app.backOffice.answer(
      () => ({ status: 401, body: '{"error":{"code":"Authentication_InvalidCredentials","message":"no"}}' }),
      { keep: true },
    );
    const changes = Array.from({ length: 250 }, () => changeMessage('BCCRONUSUS'));
    await Promise.all(changes.map((ch) => app.services.sync.handleChange(app.message(ch), app.log)));
    expect((await app.services.sync.listDeliveries({ status: 'failed' }, { size: 1000 })).items).toHaveLength(250);
    app.backOffice.scripts.length = 0; // the key is fixed
    const started = await app.services.sync.recover(
      c.id,
      { since: '2000-01-01T00:00:00Z', statuses: ['failed'] },
      call,
      app.log,
    );
    await app.drain();
    expect(await app.services.sync.getRecovery(started.id)).toMatchObject({
      kind: 'recover',
      scanComplete: true,
      queued: 250,
      sent: 250,
      delivered: 250,
      failed: 0,
      pending: 0,
      done: true,
    });
    expect(new Set(app.backOffice.sentIds().slice(250)).size).toBe(250);
  });

  it('uses the fixed connector although connectors are cached: fix the key, then recover at once', async () => {
    const app = createUnitApp({ SYNC_RETRY_HORIZON_HOURS: '0.0001', SYNC_CONNECTOR_CACHE_SECONDS: '15' });
    const c = await app.connector({ password: 'wrong-access-key' });
    const wrong = `Basic ${Buffer.from('SVC:wrong-access-key').toString('base64')}`;
    app.backOffice.answer((r) => (r.headers.authorization === wrong ? { status: 401, body: '{}' } : undefined), {
      keep: true,
    });
    const changes = Array.from({ length: 20 }, () => changeMessage('BCCRONUSUS'));
    await Promise.all(changes.map((ch) => app.services.sync.handleChange(app.message(ch), app.log)));
    expect((await app.services.sync.listDeliveries({ status: 'failed' }, { size: 100 })).items).toHaveLength(20);
    await app.services.connectors.replace(
      c.id,
      { ...connectorInput(c), password: 'right-access-key' },
      undefined,
      call,
      app.log,
    );
    const started = await app.services.sync.recover(
      c.id,
      { since: '2000-01-01T00:00:00Z', statuses: ['failed'] },
      call,
      app.log,
    );
    await app.drain();
    expect(await app.services.sync.getRecovery(started.id)).toMatchObject({
      queued: 20,
      delivered: 20,
      failed: 0,
      done: true,
    });
  });

  it('resyncs the latest revision of every live appointment of the source app to a new connector', async () => {
    const app = createUnitApp();
    const guids = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, guid] of guids.entries())
      for (const revision of [1, 2])
        await app.services.sync.handleChange(
          app.message(
            changeMessage('BCCRONUSUS', {
              revision,
              databaseAction: i === 2 && revision === 2 ? 'D' : 'U',
              appointment: { appointmentGuid: guid },
            }),
          ),
          app.log,
        );
    const c = await app.connector();
    const started = await app.services.sync.resync(c.id, { includeDeleted: false }, call, app.log);
    await app.drain();
    expect(await app.services.sync.getRecovery(started.id)).toMatchObject({ queued: 2, delivered: 2, done: true });
    expect(app.backOffice.sentIds().sort()).toEqual(
      [deliveryId(c.id, guids[0]!, 2), deliveryId(c.id, guids[1]!, 2)].sort(),
    );
  });

  it('drops a copy of a page already done, and answers 404 for a connector that does not exist', async () => {
    const app = createUnitApp();
    const c = await app.connector();
    const started = await app.services.sync.resync(c.id, { includeDeleted: false }, call, app.log);
    const [first] = app.queues.recoveryPages;
    await app.drain();
    await app.services.sync.handleRecoveryPage(app.message(first!.page), app.log);
    expect(app.queues.workItems).toEqual([]);
    expect(await app.services.sync.getRecovery(started.id)).toMatchObject({
      scanComplete: true,
      queued: 0,
      done: true,
    });
    await expect(
      app.services.sync.resync(randomUUID(), { includeDeleted: false }, call, app.log),
    ).rejects.toMatchObject({ status: 404 });
  });
});
