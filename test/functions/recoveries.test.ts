// Recover and resync through the HTTP API and the recoveries queue: a fixed password recovers every failed
// change once, in order; a recover racing new revisions never regresses an appointment; a new connector gets
// the latest revision of each known appointment (not the deleted ones) once; two resyncs at once send nothing
// twice beyond what the back office absorbs as duplicates.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/model/pushBody';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const KEY = 'recover-access-key-7c6b5a49';
const WRONG = 'recover-wrong-key-00000000';
let app: TestApp;
let bc: BusinessCentralFake;

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', KEY);
  await bc.start();
  app = await startTestApp();
});
afterAll(async () => {
  for (const secret of [KEY, WRONG]) expect(app.logs.join('\n')).not.toContain(secret);
  await app?.stop();
  await bc.stop();
});

const newApp = () => `REC${randomBytes(4).toString('hex').toUpperCase()}`;

function connectorBody(sourceApp: string, password: string) {
  return {
    name: 'recovering',
    sourceApp,
    backOffice: 'bc-onprem',
    webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
    login: 'SVC',
    password,
  };
}

async function post(path: string, json: unknown) {
  const res = await app.fetch(path, { method: 'POST', json });
  return { status: res.status, headers: res.headers, body: await jsonOf(res) };
}

async function enqueue(changes: unknown[]) {
  for (let i = 0; i < changes.length; i += 100)
    expect((await post('/api/appointments', changes.slice(i, i + 100))).status).toBe(202);
}

async function rows(query: string): Promise<Array<{ id: string; status: string; revision: number }>> {
  const all = [];
  let token: string | undefined;
  do {
    const page = await jsonOf(
      await app.fetch(
        `/api/deliveries?${query}&pageSize=1000${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      ),
    );
    all.push(...page.items);
    token = page.continuationToken ?? undefined;
  } while (token);
  return all;
}

/** Waits until the recovery is done and returns its progress. */
async function finished(location: string) {
  return eventually(
    async () => {
      const progress = await jsonOf(await app.fetch(new URL(location).pathname));
      if (!progress.done) throw new Error(`not done: ${JSON.stringify(progress)}`);
      return progress;
    },
    90_000,
    250,
  );
}

/** What landed in the fake for these (connector, appointment, revision) ids, per appointment, in order. */
function landed(connectorId: string, guids: string[], revisions: number[]) {
  const byId = new Map<string, { guid: string; revision: number }>();
  for (const guid of guids)
    for (const revision of revisions) byId.set(deliveryId(connectorId, guid, revision), { guid, revision });
  const out = new Map<string, number[]>();
  for (const id of bc.insertOrder) {
    const d = byId.get(id);
    if (d) out.set(d.guid, [...(out.get(d.guid) ?? []), d.revision]);
  }
  return out;
}

describe('recover', () => {
  it('sends every failed change again once the password is fixed, once each, and counts them', async () => {
    const sourceApp = newApp();
    const created = await post('/api/connectors', connectorBody(sourceApp, WRONG));
    const id = created.body.id as string;
    const since = new Date(Date.now() - 1000).toISOString();
    const changes = Array.from({ length: 200 }, () => changeMessage(sourceApp));
    await enqueue(changes);
    await eventually(async () => {
      const all = await rows(`connectorId=${id}`);
      return all.length === 200 && all.every((r) => r.status === 'failed');
    }, 60_000);

    const fixed = await app.fetch(`/api/connectors/${id}`, { method: 'PUT', json: connectorBody(sourceApp, KEY) });
    expect(fixed.status).toBe(200);
    const requestsBefore = bc.requests.length;
    const recovery = await post(`/api/connectors/${id}/recover`, { since });
    expect(recovery.status).toBe(202);
    expect(recovery.body).toMatchObject({ kind: 'recover', connectorId: id, done: false, queued: 0 });
    const location = recovery.headers.get('location')!;
    expect(location).toMatch(new RegExp(`/api/recoveries/${recovery.body.id}$`));

    const progress = await finished(location);
    expect(progress).toMatchObject({
      scanComplete: true,
      queued: 200,
      sent: 200,
      delivered: 200,
      failed: 0,
      skipped: 0,
      pending: 0,
      done: true,
    });
    const ids = changes.map((c) => deliveryId(id, c.appointment.appointmentGuid, 1));
    expect(ids.every((d) => bc.inserted.has(d))).toBe(true);
    // Once each: every id the fake saw after the fix was inserted, none answered as a duplicate.
    const posted = bc.requests
      .slice(requestsBefore)
      .filter((r) => r.method === 'POST')
      .flatMap((r) =>
        r.path.endsWith('/$batch')
          ? (JSON.parse(r.body).requests as Array<{ body: { id: string } }>).map((op) => op.body.id)
          : [JSON.parse(r.body).id as string],
      )
      .filter((d) => ids.includes(d));
    expect(posted.length).toBe(200);
    expect((await rows(`connectorId=${id}`)).every((r) => r.status === 'delivered')).toBe(true);

    // Who asked and how many, in the audit trail.
    const audit = await jsonOf(await app.fetch(`/api/audit?resourceId=${id}&pageSize=50`));
    const details = audit.items
      .filter((e: { operation: string }) => e.operation === 'connector.recover')
      .map((e: { detail: string }) => e.detail);
    expect(details).toEqual(
      expect.arrayContaining([
        `recovery ${recovery.body.id} started`,
        `recovery ${recovery.body.id}: 200 changes queued`,
      ]),
    );
  }, 150_000);

  it('never lands an older revision after a newer one that arrives while it runs', async () => {
    const sourceApp = newApp();
    const id = (await post('/api/connectors', connectorBody(sourceApp, WRONG))).body.id as string;
    const since = new Date(Date.now() - 1000).toISOString();
    const guids = Array.from({ length: 60 }, () => randomUUID());
    await enqueue(guids.map((guid) => changeMessage(sourceApp, { appointment: { appointmentGuid: guid } })));
    await eventually(async () => (await rows(`connectorId=${id}&status=failed`)).length === 60, 60_000);
    await app.fetch(`/api/connectors/${id}`, { method: 'PUT', json: connectorBody(sourceApp, KEY) });

    // The recovery of revision 1 and revision 2 of every appointment go at the same time.
    const [recovery] = await Promise.all([
      post(`/api/connectors/${id}/recover`, { since }),
      enqueue(
        guids.map((guid) =>
          changeMessage(sourceApp, { revision: 2, databaseAction: 'U', appointment: { appointmentGuid: guid } }),
        ),
      ),
    ]);
    const progress = await finished(recovery.headers.get('location')!);
    expect(progress.queued).toBe(60);
    expect(progress.delivered + progress.skipped).toBe(60);
    await eventually(async () => {
      const all = await rows(`connectorId=${id}&status=retrying`);
      return all.length === 0 && landed(id, guids, [2]).size === 60;
    }, 60_000);
    const seen = landed(id, guids, [1, 2]);
    for (const guid of guids) {
      const revisions = seen.get(guid)!;
      expect(revisions).toEqual([...revisions].sort());
      expect(revisions.at(-1)).toBe(2);
    }
  }, 150_000);

  it('answers 404 for an unknown connector or recovery, and names bad fields', async () => {
    expect((await post(`/api/connectors/${randomUUID()}/recover`, { since: '2026-11-01T00:00:00Z' })).status).toBe(404);
    expect((await app.fetch(`/api/recoveries/${randomUUID()}`)).status).toBe(404);
    const id = (await post('/api/connectors', connectorBody(newApp(), KEY))).body.id as string;
    const bad = await post(`/api/connectors/${id}/recover`, {
      since: 'yesterday',
      until: '2026-11-01T00:00:00Z',
      statuses: ['retrying'],
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['since', 'statuses[0]']);
    const backwards = await post(`/api/connectors/${id}/recover`, {
      since: '2026-11-02T00:00:00Z',
      until: '2026-11-01T00:00:00Z',
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([expect.objectContaining({ path: 'until', message: 'must be after since' })]);
  });
});

describe('resync', () => {
  /**
   * A source app with 3 x `group` appointments known before any connector: `group` unchanged, `group` changed,
   * `group` deleted. 100 each (300) makes a resync take two pages of 200.
   */
  async function knownAppointments(sourceApp: string, group = 100) {
    const guids = Array.from({ length: 3 * group }, () => randomUUID());
    await enqueue(guids.map((guid) => changeMessage(sourceApp, { appointment: { appointmentGuid: guid } })));
    const later = [
      ...guids
        .slice(group, 2 * group)
        .map((guid) =>
          changeMessage(sourceApp, { revision: 2, databaseAction: 'U', appointment: { appointmentGuid: guid } }),
        ),
      ...guids
        .slice(2 * group)
        .map((guid) =>
          changeMessage(sourceApp, { revision: 2, databaseAction: 'D', appointment: { appointmentGuid: guid } }),
        ),
    ];
    await enqueue(later);
    await eventually(
      async () => (await rows(`sourceApp=${sourceApp}&status=no-connector`)).length === 5 * group,
      60_000,
    );
    return {
      live: guids.slice(0, 2 * group),
      deleted: guids.slice(2 * group),
      latest: (g: string) => (guids.indexOf(g as (typeof guids)[number]) < group ? 1 : 2),
    };
  }

  it('sends a new connector the latest revision of every live appointment once, and says how many it knows', async () => {
    const sourceApp = newApp();
    const known = await knownAppointments(sourceApp);
    const created = await post('/api/connectors', connectorBody(sourceApp, KEY));
    expect(created.status).toBe(201);
    expect(created.body.appointmentsKnown).toBe(200);
    const id = created.body.id as string;
    const before = bc.insertOrder.length;

    const resync = await post(`/api/connectors/${id}/resync`, {});
    expect(resync.status).toBe(202);
    const progress = await finished(resync.headers.get('location')!);
    expect(progress).toMatchObject({ kind: 'resync', queued: 200, delivered: 200, failed: 0, done: true });
    const sent = bc.insertOrder.slice(before);
    expect(sent.sort()).toEqual(known.live.map((g) => deliveryId(id, g, known.latest(g))).sort());
    for (const g of known.deleted) expect(bc.inserted.has(deliveryId(id, g, 2))).toBe(false);
  }, 150_000);

  it('one at a time: of ten resyncs asked at once one runs, nine answer 409 with its Location, and the counts add up', async () => {
    const sourceApp = newApp();
    const known = await knownAppointments(sourceApp);
    const id = (await post('/api/connectors', connectorBody(sourceApp, KEY))).body.id as string;
    const ids = new Set(known.live.map((g) => deliveryId(id, g, known.latest(g))));
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(`/api/connectors/${id}/resync`, {})));
    const started = answers.filter((a) => a.status === 202);
    expect(started).toHaveLength(1);
    const location = started[0]!.headers.get('location')!;
    for (const refused of answers.filter((a) => a.status !== 202)) {
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ type: 'urn:backoffice-connector:problem:recovery-running', status: 409 });
      expect(refused.headers.get('location')).toBe(new URL(location).pathname);
    }
    const progress = await finished(location);
    expect(progress).toMatchObject({ queued: 200, delivered: 200, failed: 0, skipped: 0, pending: 0, done: true });
    // Sent once each: nothing answered as a duplicate, nothing counted twice.
    const attempts = bc.requests
      .filter((r) => r.method === 'POST')
      .flatMap((r) =>
        r.path.endsWith('/$batch')
          ? (JSON.parse(r.body).requests as Array<{ body: { id: string } }>).map((op) => op.body.id)
          : [JSON.parse(r.body).id as string],
      )
      .filter((d) => ids.has(d));
    expect(attempts).toHaveLength(200);
    expect(bc.insertOrder.filter((d) => ids.has(d))).toHaveLength(200);
    // Done, it gives way to the next.
    expect((await post(`/api/connectors/${id}/resync`, {})).status).toBe(202);
  }, 150_000);

  it('with includeDeleted also sends the deletes', async () => {
    const sourceApp = newApp();
    const known = await knownAppointments(sourceApp, 10); // one page: paging is the first resync's business
    const id = (await post('/api/connectors', connectorBody(sourceApp, KEY))).body.id as string;
    const resync = await post(`/api/connectors/${id}/resync`, { includeDeleted: true });
    const progress = await finished(resync.headers.get('location')!);
    expect(progress).toMatchObject({ queued: 30, delivered: 30, done: true });
    expect(known.deleted).toHaveLength(10);
    for (const g of known.deleted) expect(bc.inserted.has(deliveryId(id, g, 2))).toBe(true);
  }, 150_000);
});
