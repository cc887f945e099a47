// OpenTelemetry through the real entry points: the app started with an OTLP endpoint (the fake collector),
// changes posted with a producer's traceparent, Business Central faked over HTTP. The producer's trace id must
// reach the back office's request and the spans; a $batch links to every change's trace; the metrics count
// what the delivery log holds; connector health answers over HTTP; nothing exported holds a secret.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { OtlpCollector } from '../fakes/otlpCollector';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { leakedForms } from '../support/secretForms';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

// biome-ignore lint/suspicious/noExplicitAny: API answers, read field by field
type Loose = Record<string, any>;

const KEY = 'telemetry-access-key-5d1e9b';
const WRONG_KEY = 'telemetry-wrong-key-77c0aa';
const collector = new OtlpCollector();
const bc = new BusinessCentralFake();
let app: TestApp;

const newApp = () => `OTEL${randomBytes(4).toString('hex').toUpperCase()}`;
const traceparentOf = (traceId: string) => `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
const newTraceId = () => randomBytes(16).toString('hex');

beforeAll(async () => {
  await collector.start();
  bc.basicUsers.set('SVC', KEY);
  await bc.start();
  app = await startTestApp({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
      SYNC_BATCH_LINGER_MS: '400',
      HEALTH_FLUSH_SECONDS: '0.5',
    },
  });
});
afterAll(async () => {
  await app?.stop();
  await bc.stop();
  await collector.stop();
});

async function connector(sourceApp: string, password = KEY, name = 'telemetry'): Promise<string> {
  const res = await app.fetch('/api/connectors', {
    method: 'POST',
    json: {
      name,
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: 'SVC',
      password,
    },
  });
  expect(res.status).toBe(201);
  return (await jsonOf(res)).id;
}

async function settledRows(sourceApp: string, count: number): Promise<Array<Loose>> {
  return eventually(async () => {
    const page = await jsonOf(await app.fetch(`/api/deliveries?sourceApp=${sourceApp}&pageSize=1000`));
    return page.items.length === count && page.items.every((r: { status: string }) => r.status !== 'retrying')
      ? page.items
      : undefined;
  }, 60_000);
}

describe('traces', () => {
  it("carries the producer's trace id from POST /api/appointments to the back office's request", async () => {
    const sourceApp = newApp();
    await connector(sourceApp);
    const traceId = newTraceId();
    const res = await app.fetch('/api/appointments', {
      method: 'POST',
      json: changeMessage(sourceApp),
      headers: { traceparent: traceparentOf(traceId) },
    });
    expect(res.status).toBe(202);
    const [row] = await settledRows(sourceApp, 1);
    expect(row).toMatchObject({ status: 'delivered', traceId, help: 'nothing' });
    // The request Business Central got carries the trace, and names the client span as its parent.
    const sent = bc.requests.find((r) => r.method === 'POST' && r.headers.traceparent?.includes(traceId));
    expect(sent, 'a request with the trace').toBeDefined();
    const [, , parentId] = sent!.headers.traceparent!.split('-');
    const spans = await eventually(() => {
      const found = collector.spans.filter((s) => s.traceId === traceId);
      return found.some((s) => s.name === 'POST') && found.some((s) => s.name === 'deliver') ? found : undefined;
    }, 30_000);
    const client = spans.find((s) => s.spanId === parentId);
    expect(client).toMatchObject({
      name: 'POST',
      kind: 3,
      attributes: {
        'http.request.method': 'POST',
        'server.address': '127.0.0.1',
        'http.response.status_code': 201,
        'url.full': `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      },
    });
    const deliver = spans.find((s) => s.spanId === client!.parentSpanId);
    expect(deliver).toMatchObject({ name: 'deliver', attributes: { outcome: 'delivered', back_office: 'bc-onprem' } });
    const change = spans.find((s) => s.spanId === deliver!.parentSpanId);
    expect(change).toMatchObject({ name: 'appointment.change', kind: 5 });
    expect(change!.resource['service.name']).toBe('backoffice-connector-service');
  });

  it("links a $batch to the trace of every change it carries, and a change's own trace id reaches it", async () => {
    const sourceApp = newApp();
    await connector(sourceApp);
    const traceIds = Array.from({ length: 5 }, newTraceId);
    const changes = traceIds.map((t) => ({ ...changeMessage(sourceApp), traceparent: traceparentOf(t) }));
    expect((await app.fetch('/api/appointments', { method: 'POST', json: changes })).status).toBe(202);
    const rows = await settledRows(sourceApp, 5);
    expect(rows.map((r) => r.traceId).sort()).toEqual([...traceIds].sort());
    const batch = await eventually(
      () =>
        collector.spans.find((s) => s.name === '$batch' && traceIds.every((t) => s.links.some((l) => l.traceId === t))),
      30_000,
    );
    expect(batch.attributes['batch.size']).toBe(5);
    const request = bc.requests.find(
      (r) => r.path.endsWith('/$batch') && r.headers.traceparent?.includes(batch.traceId),
    );
    expect(request, 'the $batch request carries the batch span trace').toBeDefined();
  });
});

describe('metrics', () => {
  it('connector.deliveries counts what the delivery log holds, per connector and outcome', async () => {
    const sourceApp = newApp();
    const good = await connector(sourceApp, KEY, 'good');
    const wrong = await connector(sourceApp, WRONG_KEY, 'wrong');
    const changes = Array.from({ length: 6 }, () => changeMessage(sourceApp));
    await app.fetch('/api/appointments', { method: 'POST', json: changes });
    const rows = await settledRows(sourceApp, 12);
    const expected = (id: string, status: string) =>
      rows.filter((r) => r.connectorId === id && r.status === status).length;
    expect(expected(good, 'delivered')).toBe(6);
    expect(expected(wrong, 'failed')).toBe(6);
    const counted = (id: string) =>
      Object.fromEntries(
        collector
          .latest('connector.deliveries')
          .filter((p) => p.attributes['connector.id'] === id)
          .map((p) => [p.attributes.outcome, p.value]),
      );
    await eventually(() => (counted(good).delivered === 6 && counted(wrong).failed === 6 ? true : undefined), 30_000);
    expect(counted(good)).toEqual({ delivered: 6 });
    expect(counted(wrong)).toEqual({ failed: 6 });
    const latency = collector.latest('connector.delivery.latency').filter((p) => p.attributes['connector.id'] === good);
    expect(latency.map((p) => [p.attributes.outcome, p.value])).toEqual([['delivered', 6]]);
  });
});

describe('connector health', () => {
  it('answers 404 for a connector that does not exist', async () => {
    const res = await app.fetch(`/api/connectors/${randomUUID()}/health`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('is idle before anything happened, healthy after deliveries, failing with what to do after a failure', async () => {
    const sourceApp = newApp();
    const good = await connector(sourceApp, KEY, 'good');
    expect(await jsonOf(await app.fetch(`/api/connectors/${good}/health`))).toEqual({
      connectorId: good,
      name: 'good',
      sourceApp,
      status: 'idle',
      lastSuccessAt: null,
      lastFailure: null,
      last24h: { delivered: 0, failed: 0, retried: 0 },
      retrying: 0,
      poisoned: 0,
      credentialStatus: 'none',
      lastTest: null,
    });
    // One change fails once (a 503: retried at once in tests), then goes through.
    bc.faults.push({ status: 503 });
    await app.fetch('/api/appointments', { method: 'POST', json: changeMessage(sourceApp) });
    await settledRows(sourceApp, 1);
    const healthy = await eventually(async () => {
      const h = await jsonOf(await app.fetch(`/api/connectors/${good}/health`));
      return h.last24h.delivered === 1 ? h : undefined;
    }, 30_000);
    expect(healthy).toMatchObject({
      status: 'healthy',
      last24h: { delivered: 1, failed: 0, retried: 1 },
      retrying: 0,
      lastFailure: { code: 'http.server-error', help: 'nothing: retried' },
    });
    expect(Date.parse(healthy.lastSuccessAt)).toBeGreaterThanOrEqual(Date.parse(healthy.lastFailure.at));

    const wrong = await connector(sourceApp, WRONG_KEY, 'wrong');
    await app.fetch('/api/appointments', { method: 'POST', json: changeMessage(sourceApp) });
    await settledRows(sourceApp, 3);
    const failing = await eventually(async () => {
      const h = await jsonOf(await app.fetch(`/api/connectors/${wrong}/health`));
      return h.status === 'failing' ? h : undefined;
    }, 30_000);
    expect(failing).toMatchObject({
      lastSuccessAt: null,
      lastFailure: {
        code: 'auth.rejected',
        help: 'BC online: register and enable the client id on the Microsoft Entra Applications page and assign permission sets; on-premises: check the user and web service access key (with ntlm, the Windows password)',
      },
      last24h: { delivered: 0, failed: 1, retried: 0 },
    });
    expect(leakedForms(JSON.stringify(failing), [WRONG_KEY])).toEqual([]);

    // A connection test is there at once, and a failed one keeps the connector failing.
    const tested = await jsonOf(await app.fetch(`/api/connectors/${wrong}/test`, { method: 'POST' }));
    expect(tested).toMatchObject({ ok: false, code: 'auth.rejected', help: failing.lastFailure.help });
    const afterTest = await jsonOf(await app.fetch(`/api/connectors/${wrong}/health`));
    expect(afterTest).toMatchObject({ status: 'failing', lastTest: { ok: false, code: 'auth.rejected' } });

    // The list of a source app holds both, in one page.
    const list = await jsonOf(await app.fetch(`/api/connector-health?sourceApp=${sourceApp.toLowerCase()}`));
    expect(list.items.map((h: { connectorId: string; status: string }) => [h.connectorId, h.status]).sort()).toEqual(
      [
        [good, 'healthy'],
        [wrong, 'failing'],
      ].sort(),
    );
    expect(list.continuationToken).toBeNull();
  });

  it('shows a disabled connector as disabled', async () => {
    const sourceApp = newApp();
    const id = await connector(sourceApp);
    const current = await app.fetch(`/api/connectors/${id}`);
    const body = await jsonOf(current);
    const res = await app.fetch(`/api/connectors/${id}`, {
      method: 'PUT',
      json: { ...body, sendAppointments: false },
      headers: { 'if-match': current.headers.get('etag')! },
    });
    expect(res.status).toBe(200);
    expect((await jsonOf(await app.fetch(`/api/connectors/${id}/health`))).status).toBe('disabled');
  });
});

describe('failed deliveries say what to do', () => {
  it('a failed row carries help from the code catalogue; a delivered one says nothing is needed', async () => {
    const sourceApp = newApp();
    const wrong = await connector(sourceApp, WRONG_KEY, 'wrong');
    await app.fetch('/api/appointments', { method: 'POST', json: changeMessage(sourceApp) });
    const row = (await settledRows(sourceApp, 1))[0]!;
    expect(row).toMatchObject({ connectorId: wrong, status: 'failed', code: 'auth.rejected' });
    expect(row.help).toBe(
      'BC online: register and enable the client id on the Microsoft Entra Applications page and assign permission sets; on-premises: check the user and web service access key (with ntlm, the Windows password)',
    );
    const one = await jsonOf(await app.fetch(`/api/deliveries/${row.id}`));
    expect(one.help).toBe(row.help);
  });
});

describe('secrets', () => {
  it('reach no exported span, metric or log record, in any form', async () => {
    await eventually(() => (collector.logs.length > 0 ? true : undefined), 30_000);
    const exported = JSON.stringify({ spans: collector.spans, points: collector.points, logs: collector.logs });
    expect(leakedForms(exported, [KEY, WRONG_KEY])).toEqual([]);
  });
});
