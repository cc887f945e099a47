// The metrics, spans and health of a scripted run, from the real OpenTelemetry SDK (telemetrySdk.ts) with
// in-memory exporters: 200 changes to two connectors (one with a wrong password), a tenth of the requests
// failing once, some messages delivered twice, some changes nobody takes. What the instruments count must be
// what the delivery log holds, per connector and outcome; nothing exported may hold a secret.
import { randomUUID } from 'node:crypto';
import { InMemoryLogRecordExporter } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, InMemoryMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredConnector } from '../../src/model/connector';
import type { Delivery } from '../../src/model/delivery';
import { redact } from '../../src/platform/redact';
import { type RunningTelemetry, startTelemetry } from '../../src/platform/telemetrySdk';
import { seededRandom } from '../fakes/seededRandom';
import { sampleChange } from '../support/changes';
import { leakedForms } from '../support/secretForms';
import { createUnitApp, type UnitApp } from '../support/unitApp';

const GOOD_KEY = 'unit-access-key-telemetry-good-7f3a';
const WRONG_KEY = 'unit-access-key-telemetry-wrong-91c2';

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const logRecords = new InMemoryLogRecordExporter();
let telemetry: RunningTelemetry;
let app: UnitApp;
let good: StoredConnector;
let wrong: StoredConnector;
let faults = 0;

/** Every row of a connector (or of none), all pages. */
async function rowsOf(filter: { connectorId?: string; sourceApp?: string }): Promise<Delivery[]> {
  const rows: Delivery[] = [];
  let token: string | undefined;
  do {
    const page = await app.services.sync.listDeliveries(filter, { size: 1000, token });
    rows.push(...page.items);
    token = page.continuationToken ?? undefined;
  } while (token);
  return rows;
}

const countBy = <T>(items: T[], key: (item: T) => string) =>
  items.reduce<Record<string, number>>((acc, item) => {
    acc[key(item)] = (acc[key(item)] ?? 0) + 1;
    return acc;
  }, {});

function lastExport(): ResourceMetrics {
  const all = metricExporter.getMetrics();
  const last = all.at(-1);
  if (!last) throw new Error('no metrics were exported');
  return last;
}

type Point = { attributes: Record<string, unknown>; value: unknown };

function points(name: string): Point[] {
  return lastExport()
    .scopeMetrics.flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m): Point[] => m.dataPoints);
}

beforeAll(async () => {
  telemetry = startTelemetry({
    env: {},
    redact,
    serviceName: 'unit',
    serviceVersion: '0.0.0',
    instanceId: 'unit-instance',
    exporters: { spans: [spans], metrics: [metricExporter], logs: [logRecords] },
  });
  app = createUnitApp({ SYNC_BATCH_MAX_OPERATIONS: '1', HEALTH_FLUSH_SECONDS: '600' });
  good = await app.connector({ name: 'Cronus good', password: GOOD_KEY });
  wrong = await app.connector({
    // Someone pasted the key into the name: the name is an attribute, and must reach no exporter as it is.
    name: `Cronus wrong (${WRONG_KEY})`,
    webServiceUri: 'https://bc-wrong.example.com/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments',
    password: WRONG_KEY,
  });
  const random = seededRandom(20);
  // The wrong password: every request to that server is refused. A tenth of the rest fail once with a 503.
  app.backOffice.answer((r) => (r.url.includes('bc-wrong.example.com') ? { status: 401, body: '' } : undefined), {
    keep: true,
  });
  app.backOffice.answer(
    (r) => {
      if (r.method !== 'POST' || random() >= 0.1) return undefined;
      faults++;
      return { status: 503, body: '' };
    },
    { keep: true },
  );
  const changes = Array.from({ length: 200 }, (_, i) =>
    sampleChange({ appointment: { appointmentGuid: randomUUID(), appointmentId: 1000 + i } }),
  );
  const nobody = Array.from({ length: 5 }, () => sampleChange({ appointment: { sourceApp: 'NOBODY' } }));
  for (const change of [...changes, ...nobody]) await app.queues.sendChange(change);
  await app.drain({ maxRounds: 200 });
  // The queue delivers at least once: twenty messages come again after they were handled.
  for (const change of changes.slice(0, 20)) await app.queues.sendChange(change);
  await app.drain({ maxRounds: 200 });
  await telemetry.forceFlush();
}, 60_000);

afterAll(async () => {
  await telemetry.shutdown();
});

describe('connector.deliveries', () => {
  it('counts, per connector and outcome, exactly the rows of the delivery log', async () => {
    for (const connector of [good, wrong]) {
      const rows = await rowsOf({ connectorId: connector.id });
      const counted = Object.fromEntries(
        points('connector.deliveries')
          .filter((p) => p.attributes['connector.id'] === connector.id)
          .map((p) => [String(p.attributes.outcome), p.value as number]),
      );
      expect(counted).toEqual(countBy(rows, (r) => r.status));
    }
  });

  it('says what the rows say: 200 delivered to the good connector, 200 failed to the wrong one', () => {
    const of = (c: StoredConnector) =>
      points('connector.deliveries')
        .filter((p) => p.attributes['connector.id'] === c.id)
        .map((p) => ({ attributes: p.attributes, value: p.value }));
    expect(of(good)).toEqual([
      {
        attributes: {
          outcome: 'delivered',
          'connector.id': good.id,
          'connector.name': 'Cronus good',
          back_office: 'bc-onprem',
          source_app: 'BCCRONUSUS',
        },
        value: 200,
      },
    ]);
    expect(of(wrong)).toEqual([
      {
        attributes: {
          outcome: 'failed',
          'connector.id': wrong.id,
          'connector.name': 'Cronus wrong (***)',
          back_office: 'bc-onprem',
          source_app: 'BCCRONUSUS',
        },
        value: 200,
      },
    ]);
  });

  it('counts a change no connector takes, without connector attributes', () => {
    const nobody = points('connector.deliveries').filter((p) => p.attributes.outcome === 'no-connector');
    expect(nobody.map((p) => ({ attributes: p.attributes, value: p.value }))).toEqual([
      { attributes: { outcome: 'no-connector', source_app: 'NOBODY' }, value: 5 },
    ]);
  });
});

describe('connector.delivery.latency', () => {
  it('has one measurement per settled row, by connector and outcome', async () => {
    const latency = points('connector.delivery.latency');
    for (const connector of [good, wrong]) {
      const settled = (await rowsOf({ connectorId: connector.id })).filter((r) => r.status !== 'retrying');
      const measured = latency
        .filter((p) => p.attributes['connector.id'] === connector.id)
        .reduce((n, p) => n + (p.value as { count: number }).count, 0);
      expect(measured).toBe(settled.length);
    }
  });
});

describe('the other instruments', () => {
  it('counts each retry the injected faults caused, and each request by status class', () => {
    expect(faults).toBeGreaterThan(10);
    const retries = points('connector.retries').map((p) => ({ attributes: p.attributes, value: p.value }));
    expect(retries).toEqual([
      {
        attributes: {
          'connector.id': good.id,
          'connector.name': 'Cronus good',
          back_office: 'bc-onprem',
          code: 'http.server-error',
        },
        value: faults,
      },
    ]);
    const requests = Object.fromEntries(
      points('backoffice.request.duration').map((p) => [
        `${p.attributes.operation} ${p.attributes.status_class}`,
        (p.value as { count: number }).count,
      ]),
    );
    const sent = app.backOffice.requests.filter((r) => r.method === 'POST');
    const refused = sent.filter((r) => r.url.includes('bc-wrong.example.com')).length;
    expect(requests).toEqual({
      'deliver 2xx': sent.length - refused - faults,
      'deliver 4xx': refused,
      'deliver 5xx': faults,
    });
  });

  it('leaves no budget slot counted as in use once every request has ended', () => {
    const slots = points('budget.slots.in_use');
    expect(slots.length).toBeGreaterThan(0);
    for (const p of slots) {
      expect(p.value).toBe(0);
      expect(String(p.attributes.principal)).toMatch(/^[\da-f]{12}$/);
    }
  });
});

describe('spans', () => {
  it('has a deliver span per delivery, ending on the outcome its row has', () => {
    const deliver = spans.getFinishedSpans().filter((s) => s.name === 'deliver');
    const ofWrong = deliver.filter((s) => s.attributes['connector.id'] === wrong.id);
    expect(ofWrong.length).toBeGreaterThanOrEqual(200);
    expect(new Set(ofWrong.map((s) => s.attributes.outcome))).toEqual(new Set(['failed']));
    expect(new Set(ofWrong.map((s) => s.attributes['delivery.code']))).toEqual(new Set(['auth.rejected']));
    const ofGood = deliver.filter((s) => s.attributes['connector.id'] === good.id);
    expect(new Set(ofGood.map((s) => s.attributes.outcome))).toEqual(new Set(['delivered', 'retrying']));
    // The twenty messages that came again found their rows delivered, and said so.
    expect(ofGood.filter((s) => s.attributes['delivery.redelivered'] === true)).toHaveLength(20);
  });
});

describe('connector health after the run', () => {
  it('says the good connector is healthy and the wrong one failing, with what to do', async () => {
    const healthy = await app.services.health.get(good.id);
    expect(healthy).toMatchObject({
      status: 'healthy',
      last24h: { delivered: 200, failed: 0, retried: faults },
      retrying: 0,
      poisoned: 0,
      credentialStatus: 'none',
      lastTest: null,
    });
    expect(healthy.lastFailure?.code).toBe('http.server-error');
    expect(Date.parse(healthy.lastSuccessAt!)).toBeGreaterThanOrEqual(Date.parse(healthy.lastFailure!.at));
    const failing = await app.services.health.get(wrong.id);
    expect(failing).toMatchObject({
      status: 'failing',
      lastSuccessAt: null,
      lastFailure: {
        code: 'auth.rejected',
        help: 'BC online: register and enable the client id on the Microsoft Entra Applications page and assign permission sets; on-premises: check the user and web service access key (with ntlm, the Windows password)',
      },
      last24h: { delivered: 0, failed: 200, retried: 0 },
      retrying: 0,
    });
  });
});

describe('secrets', () => {
  it('reach no exported span, metric or log record, in any form', () => {
    const exported = JSON.stringify({
      spans: spans.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
      metrics: metricExporter.getMetrics().map((m) => m.scopeMetrics),
      logs: logRecords.getFinishedLogRecords().map((l) => ({ body: l.body, attributes: l.attributes })),
    });
    expect(exported).toContain('Cronus wrong (***)');
    expect(leakedForms(exported, [GOOD_KEY, WRONG_KEY])).toEqual([]);
  });
});
