// POST /api/appointments as producers meet it: errors that name the item and field, any GUID, and one trace
// from the producer's request to every delivery row and log line.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/model/pushBody';
import { type BackOfficeFakes, startBackOfficeFakes } from '../fakes/backOfficeFakes';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const KEY = 'appointments-access-key-123';
let app: TestApp;
let fakes: BackOfficeFakes;

beforeAll(async () => {
  fakes = await startBackOfficeFakes({ clientSecret: 'unused-secret-1', user: 'SVC', accessKey: KEY });
  // Rows count as old after about two seconds here; the daily timer only runs when a test invokes it.
  app = await startTestApp({ env: { ENTRA_AUTHORITY_HOST: fakes.entra.url, DELIVERY_RETENTION_DAYS: '0.00002' } });
});
afterAll(async () => {
  await app?.stop();
  await fakes.stop();
});

const newApp = () => `APPT${randomBytes(4).toString('hex').toUpperCase()}`;
const post = async (body: unknown, headers: Record<string, string> = {}) => {
  const res = await app.fetch('/api/appointments', { method: 'POST', json: body, headers });
  return { status: res.status, body: await jsonOf(res) };
};

async function connector(sourceApp: string): Promise<string> {
  const res = await app.fetch('/api/connectors', {
    method: 'POST',
    json: {
      name: 'onprem',
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${fakes.bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: 'SVC',
      password: KEY,
    },
  });
  expect(res.status).toBe(201);
  return (await jsonOf(res)).id;
}

describe('errors name the item and the field', () => {
  it('a missing revision in the fourth change of a list', async () => {
    const changes = Array.from({ length: 5 }, () => changeMessage(newApp()));
    delete (changes[3] as Partial<(typeof changes)[number]>).revision;
    const res = await post(changes);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        path: '[3].revision',
        code: 'invalid_type',
        message: 'is required: a whole number that grows with every change of the appointment',
      },
    ]);
  });

  it('a negative revision, which must be at least 0 (not "is required")', async () => {
    const res = await post({ ...changeMessage(newApp()), revision: -1 });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'revision', code: 'too_small', message: 'must be at least 0' }]);
  });

  it('a schema version this service does not read', async () => {
    const res = await post({ ...changeMessage(newApp()), schemaVersion: 2 });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        path: 'schemaVersion',
        code: 'invalid_value',
        message: 'must be 1, the only schema version this service reads',
      },
    ]);
  });

  it('more than 100 changes', async () => {
    const res = await post(Array.from({ length: 101 }, () => changeMessage(newApp())));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: '', code: 'too_big', message: 'at most 100 changes per request' }]);
  });
});

describe('the queue message limit (64 KiB)', () => {
  /** A valid change of multi-byte text: a 4,000-character subject and a 16,000-character body of euro signs. */
  const large = (sourceApp: string) =>
    changeMessage(sourceApp, { appointment: { subject: '€'.repeat(4000), body: '€'.repeat(16_000) } });
  const refusal = {
    path: '[1]',
    code: 'too_large',
    message: expect.stringMatching(
      /^is [\d,]+ bytes on the queue; a change may take at most 65,536 \(64 KiB, base64, with room for its retries\)/,
    ),
  };

  it('refuses a list with a change over the limit with 413 naming it, and queues none of the list', async () => {
    const sourceApp = newApp();
    await connector(sourceApp);
    const [before, after] = [changeMessage(sourceApp), changeMessage(sourceApp)];
    const res = await post([before, large(sourceApp), after]);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({
      type: 'urn:backoffice-connector:problem:change-too-large',
      status: 413,
      detail: 'A change is too large for the queue; nothing was queued.',
      errors: [refusal],
    });
    // A change posted next lands; by then the refused list's changes would have too, had they been queued.
    const marker = changeMessage(sourceApp);
    expect((await post(marker)).status).toBe(202);
    await eventually(
      async () => (await jsonOf(await app.fetch(`/api/deliveries?messageId=${marker.messageId}`))).items.length === 1,
    );
    for (const c of [before, after])
      expect((await jsonOf(await app.fetch(`/api/deliveries?messageId=${c.messageId}`))).items).toEqual([]);
  });

  it('names a single change as (change)', async () => {
    const res = await post(large(newApp()));
    expect(res.status).toBe(413);
    expect(res.body.errors).toEqual([{ ...refusal, path: '(change)' }]);
  });
});

describe('GUIDs', () => {
  it('takes any GUID written 8-4-4-4-12 (SQL Server NEWSEQUENTIALID) and uses it in lower case', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp);
    const guid = 'A0F0D9B4-6BCD-E611-80C7-00155D01CB05';
    const c = changeMessage(sourceApp, { appointment: { appointmentGuid: guid } });
    expect((await post(c)).status).toBe(202);
    const rowId = deliveryId(id, guid.toLowerCase(), 1);
    const row = await eventually(async () => {
      const res = await app.fetch(`/api/deliveries/${rowId}`);
      return res.status === 200 ? jsonOf(res) : undefined;
    });
    expect(row).toMatchObject({ status: 'delivered', appointmentGuid: guid.toLowerCase() });
    expect(fakes.bc.inserted.get(rowId)).toMatchObject({ id: rowId, appointmentGuid: guid.toLowerCase() });
    expect(
      (await post(changeMessage(sourceApp, { appointment: { appointmentGuid: 'not-a-guid' } }))).body.errors,
    ).toEqual([
      {
        path: 'appointment.appointmentGuid',
        code: 'invalid_format',
        message: 'must be a GUID (8-4-4-4-12 hex digits)',
      },
    ]);
  });
});

describe('one trace from producer to back office', () => {
  it('carries the request traceparent into every row and log line of the change, and filters by message id', async () => {
    const sourceApp = newApp();
    const [a, b] = [await connector(sourceApp), await connector(sourceApp)];
    const traceId = randomBytes(16).toString('hex');
    const c = changeMessage(sourceApp);
    await post(c, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    const rows = await eventually(async () => {
      const page = await jsonOf(await app.fetch(`/api/deliveries?messageId=${c.messageId}`));
      return page.items.length === 2 && page.items.every((r: { status: string }) => r.status === 'delivered')
        ? page.items
        : undefined;
    });
    expect(rows.map((r: { connectorId: string }) => r.connectorId).sort()).toEqual([a, b].sort());
    for (const r of rows) expect(r).toMatchObject({ messageId: c.messageId, traceId });
    const attempts = app.logs.filter((l) => l.includes('delivery.attempt') && l.includes(c.messageId));
    expect(attempts).toHaveLength(2);
    for (const line of attempts) expect(line).toContain(`"traceId":"${traceId}"`);
  });
});

describe('retention', () => {
  it('the retention timer removes delivery rows first recorded longer ago than DELIVERY_RETENTION_DAYS', async () => {
    const sourceApp = newApp();
    await connector(sourceApp);
    const c = changeMessage(sourceApp);
    await post(c);
    const listed = async () => (await jsonOf(await app.fetch(`/api/deliveries?sourceApp=${sourceApp}`))).items;
    const [row] = await eventually(async () => ((await listed()).length === 1 ? listed() : undefined));
    await eventually(async () => {
      await app.host.invokeNonHttp('retention', '');
      return (await listed()).length === 0;
    }, 30_000);
    expect((await app.fetch(`/api/deliveries/${row.id}`)).status).toBe(404);
    expect(app.logs.some((l) => l.includes('retention.done') && /"deliveries":[1-9]/.test(l))).toBe(true);
  });
});
