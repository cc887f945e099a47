// Appointment sync end to end: POST /api/appointments -> queue -> host -> sync -> fakes, and the delivery log.
import { randomBytes, randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/model/pushBody';
import { type BackOfficeFakes, startBackOfficeFakes } from '../fakes/backOfficeFakes';
import type { BusinessCentralFake } from '../fakes/businessCentralFake';
import { CLIENT, TENANT } from '../fakes/demoTenant';
import type { EntraFake } from '../fakes/entraFake';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const SECRET = 'sync-client-secret-4f3e2d';
const KEY = 'sync-access-key-abcdef0123';

let app: TestApp;
let entra: EntraFake;
let bc: BusinessCentralFake;
let fakes: BackOfficeFakes;

beforeAll(async () => {
  fakes = await startBackOfficeFakes({ clientSecret: SECRET, user: 'SVC', accessKey: KEY });
  ({ entra, bc } = fakes);
  app = await startTestApp({ env: { ENTRA_AUTHORITY_HOST: entra.url } });
});
afterEach(() => {
  bc.faultRate = 0;
  bc.faults.length = 0;
});
afterAll(async () => {
  for (const s of [SECRET, KEY]) expect(app.logs.join('\n')).not.toContain(s);
  await app?.stop();
  await fakes.stop();
});

const newApp = () => `SYNC${randomBytes(4).toString('hex').toUpperCase()}`;

async function connector(
  sourceApp: string,
  kind: 'online' | 'onprem',
  extra: Record<string, unknown> = {},
): Promise<string> {
  const body =
    kind === 'online'
      ? {
          name: 'online',
          sourceApp,
          backOffice: 'bc-online',
          webServiceUri: `${bc.url}/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
          login: TENANT,
          password: `client_id=${CLIENT}&client_secret=${SECRET}`,
        }
      : {
          name: 'onprem',
          sourceApp,
          backOffice: 'bc-onprem',
          webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
          login: 'SVC',
          password: KEY,
        };
  const res = await app.fetch('/api/connectors', { method: 'POST', json: { ...body, ...extra } });
  expect(res.status).toBe(201);
  return (await jsonOf(res)).id;
}

function change(
  sourceApp: string,
  o: { revision?: number; guid?: string; action?: 'I' | 'U' | 'D'; sourceType?: string | null } = {},
) {
  return changeMessage(sourceApp, {
    revision: o.revision,
    databaseAction: o.action,
    appointment: {
      appointmentId: 4_000_000_000 + Math.floor(Math.random() * 1000),
      ...(o.guid ? { appointmentGuid: o.guid } : {}),
      ...(o.sourceType !== undefined ? { sourceType: o.sourceType } : {}),
    },
  });
}

async function post(body: unknown) {
  const res = await app.fetch('/api/appointments', { method: 'POST', json: body });
  return { status: res.status, body: await jsonOf(res) };
}

async function deliveries(query: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let token: string | null = null;
  do {
    const page: { items: Array<Record<string, unknown>>; continuationToken: string | null } = await jsonOf(
      await app.fetch(
        `/api/deliveries?${query}&pageSize=1000${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      ),
    );
    items.push(...page.items);
    token = page.continuationToken;
  } while (token);
  return items;
}

const rowsAre = async (query: string, count: number, statuses: string[]) =>
  eventually(async () => {
    const rows = await deliveries(query);
    return rows.length === count && rows.every((r) => statuses.includes(String(r.status))) ? rows : undefined;
  }, 90_000);

/** Log lines of the app that contain every one of the parts. */
const linesWith = (...parts: string[]) => app.logs.filter((l) => parts.every((p) => l.includes(p)));

describe('POST /api/appointments', () => {
  it('accepts one change or an array and answers 202 with the message ids', async () => {
    const sourceApp = newApp();
    const one = change(sourceApp);
    expect(await post(one)).toEqual({ status: 202, body: { messageIds: [one.messageId] } });
    const many = [change(sourceApp), change(sourceApp)];
    expect((await post(many)).body.messageIds).toEqual(many.map((m) => m.messageId));
  });

  it('refuses an invalid change with the failing path, and more than 100', async () => {
    const bad = change(newApp());
    (bad.appointment as Record<string, unknown>).start = 'tomorrow';
    const res = await post([change(newApp()), bad]);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('[1].appointment.start');
    expect((await post(Array.from({ length: 101 }, () => change(newApp())))).status).toBe(400);
  });
});

describe('routing and delivery', () => {
  it('fans out to a bc-online (OAuth) and a bc-onprem (Basic) connector of the source app, and logs both', async () => {
    const sourceApp = newApp();
    const online = await connector(sourceApp, 'online');
    const onprem = await connector(sourceApp.toLowerCase(), 'onprem');
    const c = change(sourceApp);
    await post(c);
    const rows = await rowsAre(`sourceApp=${sourceApp}`, 2, ['delivered']);
    expect(rows.map((r) => r.connectorId).sort()).toEqual([online, onprem].sort());
    for (const id of [online, onprem])
      expect(bc.inserted.has(deliveryId(id, c.appointment.appointmentGuid, 1))).toBe(true);
    const detail = await jsonOf(
      await app.fetch(`/api/deliveries/${deliveryId(online, c.appointment.appointmentGuid, 1)}`),
    );
    expect(detail).toMatchObject({
      status: 'delivered',
      attempts: 1,
      lastHttpStatus: 201,
      appointmentId: c.appointment.appointmentId,
      revision: 1,
    });
    expect(detail.history).toEqual([expect.objectContaining({ attempt: 1, outcome: 'delivered', status: 201 })]);
    expect(
      app.logs.some((l) => l.includes('delivery.attempt') && l.includes(online) && l.includes('"outcome":"delivered"')),
    ).toBe(true);
  });

  it('filters the delivery log by connector, appointment and time range', async () => {
    const sourceApp = newApp();
    const online = await connector(sourceApp, 'online');
    await connector(sourceApp, 'onprem');
    const first = change(sourceApp);
    const second = change(sourceApp);
    second.appointment.appointmentId = first.appointment.appointmentId + 1; // never the same by chance
    const before = new Date(Date.now() - 1000).toISOString();
    await post([first, second]);
    await rowsAre(`sourceApp=${sourceApp}`, 4, ['delivered']);
    expect(await deliveries(`connectorId=${online}`)).toHaveLength(2);
    const byAppointment = await deliveries(`appointmentId=${first.appointment.appointmentId}&sourceApp=${sourceApp}`);
    expect(byAppointment.map((r) => r.appointmentId)).toEqual([
      first.appointment.appointmentId,
      first.appointment.appointmentId,
    ]);
    expect(await deliveries(`sourceApp=${sourceApp}&from=${encodeURIComponent(before)}`)).toHaveLength(4);
    expect(await deliveries(`sourceApp=${sourceApp}&to=${encodeURIComponent(before)}`)).toHaveLength(0);
    const bad = await app.fetch('/api/deliveries?status=lost');
    expect(bad.status).toBe(400);
    expect((await jsonOf(bad)).errors[0].path).toBe('query.status');
  });

  it('makes redelivery of the same message harmless', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp, 'onprem');
    const c = change(sourceApp);
    await post(c);
    await rowsAre(`sourceApp=${sourceApp}`, 1, ['delivered']);
    const before = bc.requests.length;
    await post(c);
    await post(c);
    // Both redeliveries were handled once the sync says so for each: the condition, not a pause.
    await eventually(() => linesWith('delivery.redelivered', c.messageId).length >= 2, 30_000);
    const rows = await deliveries(`sourceApp=${sourceApp}`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(bc.requests.length).toBe(before); // the sync state knew: nothing was sent again
    expect([...bc.inserted.keys()].filter((k) => k === deliveryId(id, c.appointment.appointmentGuid, 1))).toHaveLength(
      1,
    );
  });

  it('never lets an older revision land after a newer one', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp, 'onprem');
    const guid = randomUUID();
    await post(change(sourceApp, { guid, revision: 2, action: 'U' }));
    await rowsAre(`sourceApp=${sourceApp}`, 1, ['delivered']);
    await post(change(sourceApp, { guid, revision: 1 }));
    const rows = await rowsAre(`sourceApp=${sourceApp}`, 2, ['delivered', 'stale']);
    expect(rows.find((r) => r.revision === 1)?.status).toBe('stale');
    expect(bc.inserted.has(deliveryId(id, guid, 1))).toBe(false);

    // Revisions 3..8 at once: whatever order they run in, what lands is ascending.
    const burst = [3, 4, 5, 6, 7, 8].map((revision) => change(sourceApp, { guid, revision, action: 'U' }));
    await post(burst.reverse());
    await rowsAre(`sourceApp=${sourceApp}`, 8, ['delivered', 'stale']);
    const landed = bc.insertOrder
      .filter((k) => [3, 4, 5, 6, 7, 8].some((r) => deliveryId(id, guid, r) === k))
      .map((k) => [3, 4, 5, 6, 7, 8].find((r) => deliveryId(id, guid, r) === k)!);
    expect(landed).toEqual([...landed].sort((a, b) => a - b));
    expect(landed.at(-1)).toBe(8);
  });

  it('gives a second message with a revision already delivered a stale row of its own', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp, 'onprem');
    const first = change(sourceApp);
    await post(first);
    await rowsAre(`sourceApp=${sourceApp}`, 1, ['delivered']);
    const again = { ...first, messageId: randomUUID() }; // the producer sent the same revision once more
    await post(again);
    const rows = await rowsAre(`sourceApp=${sourceApp}`, 2, ['delivered', 'stale']);
    const stale = rows.find((r) => r.status === 'stale')!;
    expect(stale).toMatchObject({ messageId: again.messageId, connectorId: id, code: 'sync.stale', revision: 1 });
    expect(String(stale.message)).toContain('revision 1 was already sent');
    expect(rows.find((r) => r.status === 'delivered')).toMatchObject({
      id: deliveryId(id, first.appointment.appointmentGuid, 1),
      messageId: first.messageId,
    });
    expect(linesWith('delivery.outcome', again.messageId, '"status":"stale"')).toHaveLength(1);
  });

  it('retries, never fails, the deliveries that met a single Entra 500 (AADSTS50000) and delivers them all', async () => {
    const sourceApp = newApp();
    const clientId = randomUUID(); // a client with no cached token yet
    entra.register(TENANT, clientId, SECRET);
    bc.registerApp(TENANT, clientId);
    const id = await connector(sourceApp, 'online', { password: `client_id=${clientId}&client_secret=${SECRET}` });
    entra.failWith = {
      status: 500,
      times: 1,
      aadsts: 50000,
      error: 'server_error',
      description: 'There was an error issuing a token.',
      retryAfterSeconds: 1, // MSAL holds back new token requests for this long (60 s without it)
    };
    const changes = Array.from({ length: 40 }, () => change(sourceApp));
    await post(changes);
    const rows = await rowsAre(`connectorId=${id}`, 40, ['delivered']);
    const details = await Promise.all(rows.map(async (r) => jsonOf(await app.fetch(`/api/deliveries/${r.id}`))));
    const codes = details.flatMap((d) => d.history.map((h: { code: string }) => h.code));
    expect(codes).toContain('auth.token-unavailable'); // the fault was met, and retried
    expect(codes).not.toContain('auth.token-failed');
  }, 120_000);

  it('delivers every change exactly once through 30% injected 429/503/500/resets', async () => {
    const sourceApp = newApp();
    const ids = [await connector(sourceApp, 'online'), await connector(sourceApp, 'onprem')];
    bc.seed(42).faultRate = 0.3;
    const changes = Array.from({ length: 30 }, () => change(sourceApp));
    await post(changes);
    const rows = await rowsAre(`sourceApp=${sourceApp}`, 60, ['delivered', 'duplicate']);
    bc.faultRate = 0;
    for (const id of ids)
      for (const c of changes) expect(bc.inserted.has(deliveryId(id, c.appointment.appointmentGuid, 1))).toBe(true);
    expect(rows.some((r) => Number(r.attempts) > 1)).toBe(true); // the faults were really met and retried
  }, 60_000);

  it('fails a permanent 400 at once with its code, and delivers on replay once the back office is fixed', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp, 'onprem');
    bc.faults.push({
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({
        error: { code: 'Application_FieldValidationException', message: 'Unit of Measure must have a value.' },
      }),
    });
    const c = change(sourceApp);
    await post(c);
    const [failed] = await rowsAre(`sourceApp=${sourceApp}`, 1, ['failed']);
    expect(failed).toMatchObject({ code: 'http.rejected', lastHttpStatus: 400, attempts: 1 });
    expect(String(failed!.message)).toContain('Unit of Measure must have a value.');
    const rowId = deliveryId(id, c.appointment.appointmentGuid, 1);
    const replay = await app.fetch(`/api/deliveries/${rowId}/replay`, { method: 'POST' });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('location')).toBe(`${app.url}/api/deliveries/${rowId}`);
    await rowsAre(`sourceApp=${sourceApp}`, 1, ['delivered']);
    expect(bc.inserted.has(rowId)).toBe(true);
    // Replaying a delivered change is harmless: the back office says duplicate.
    expect((await app.fetch(`/api/deliveries/${rowId}/replay`, { method: 'POST' })).status).toBe(202);
    await rowsAre(`sourceApp=${sourceApp}`, 1, ['duplicate']);
  });

  it('records skipped, filtered and unrouted changes', async () => {
    const sourceApp = newApp();
    await connector(sourceApp, 'onprem', { sendAppointments: false, name: 'disabled' });
    await connector(sourceApp, 'onprem', { databaseActions: ['I'], name: 'inserts only' });
    await connector(sourceApp, 'onprem', { sourceType: 'PROJECT', name: 'other source type' });
    await post(change(sourceApp, { action: 'D' }));
    const rows = await rowsAre(`sourceApp=${sourceApp}`, 2, ['skipped-disabled', 'skipped-action']);
    expect(rows.map((r) => r.status).sort()).toEqual(['skipped-action', 'skipped-disabled']);

    const nobody = newApp();
    const lonely = change(nobody);
    await post(lonely);
    const [row] = await rowsAre(`sourceApp=${nobody}`, 1, ['no-connector']);
    expect(row).toMatchObject({
      code: 'sync.no-connector',
      appointmentId: lonely.appointment.appointmentId,
      connectorId: null,
    });
  });
});

describe('bad messages end in the log, never in a loop', () => {
  const rawQueue = () => new QueueClient(app.env.AzureWebJobsStorage!, app.env.APPOINTMENTS_QUEUE!);

  it('records a change nested 20,000 arrays deep as malformed at once, without a crash or a retry', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    await rawQueue().sendMessage(Buffer.from(deep).toString('base64'));
    console.log(
      app.logs
        .filter((l) => l.includes('Failed'))
        .slice(0, 3)
        .map((l) => l.slice(0, 400))
        .join('\n'),
    );
    const [row] = await eventually(async () => {
      const rows = (await deliveries('status=failed')).filter(
        (r) => r.code === 'sync.malformed' && String(r.message).includes('nested deeper than 256 levels'),
      );
      return rows.length ? rows : undefined;
    }, 30_000);
    expect(row).toMatchObject({ attempts: 0, connectorId: null });
    expect(app.logs.filter((l) => l.includes("'Functions.appointmentChanged' (Failed"))).toEqual([]);
  });

  it('records a malformed change once, with its reason, without retrying it', async () => {
    const marker = randomUUID();
    const messageId = randomUUID();
    const sent = JSON.stringify({ schemaVersion: 2, messageId, marker, password: 'malformed-row-secret-1' });
    await rawQueue().sendMessage(Buffer.from(sent).toString('base64'));
    const [row] = await eventually(async () => {
      const rows = (await deliveries('status=failed')).filter(
        (r) => String(r.code) === 'sync.malformed' && String(r.message).includes('schemaVersion'),
      );
      return rows.length ? rows : undefined;
    });
    expect(row!.attempts).toBe(0);
    const detail = await jsonOf(await app.fetch(`/api/deliveries/${row!.id}`));
    expect(detail.history[0]).toMatchObject({ code: 'sync.malformed' });
    // What there is to see of it: its messageId, and its text (redacted).
    expect(detail.messageId).toBe(messageId);
    expect(detail.text).toBe(sent.replace('malformed-row-secret-1', '***'));
    expect((await deliveries(`messageId=${messageId}`)).map((r) => r.id)).toEqual([row!.id]);
    expect((await app.fetch(`/api/deliveries/${row!.id}/replay`, { method: 'POST' })).status).toBe(409);
  });

  it('keeps a change retrying while Key Vault is down, and delivers it when the vault is back (never failed)', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp, 'onprem');
    const c = change(sourceApp);
    const rowId = deliveryId(id, c.appointment.appointmentGuid, 1);
    app.vault.injectFault({ method: 'GET', path: /^\/secrets\/conn-/, status: 503, times: 1_000_000 });
    try {
      await post(c);
      const waiting = await eventually(async () => {
        const row = await jsonOf(await app.fetch(`/api/deliveries/${rowId}`));
        return row.status === 'retrying' && row.attempts >= 2 ? row : undefined;
      }, 30_000);
      expect(waiting).toMatchObject({ code: 'secrets.unavailable' });
      expect(bc.inserted.has(rowId)).toBe(false);
    } finally {
      app.vault.clearFaults();
    }
    const [row] = await rowsAre(`sourceApp=${sourceApp}`, 1, ['delivered']);
    expect(row!.code).toBe('delivered');
    expect(bc.inserted.has(rowId)).toBe(true);
  }, 60_000);

  it('records a message that is not base64 after the host poisons it', async () => {
    const text = `not-base64 ${randomUUID()} {"revision":1}`;
    await rawQueue().sendMessage(text);
    const [row] = await eventually(async () => {
      const rows = (await deliveries('status=failed')).filter(
        (r) => String(r.code) === 'sync.poisoned' && String(r.message).includes('not base64'),
      );
      return rows.length ? rows : undefined;
    }, 30_000);
    expect(row).toMatchObject({ connectorId: null, attempts: 0 });
    const poison = new QueueClient(app.env.AzureWebJobsStorage!, `${app.env.APPOINTMENTS_QUEUE}-poison`);
    await eventually(async () => (await poison.peekMessages()).peekedMessageItems.length === 0);
  }, 40_000);
});
