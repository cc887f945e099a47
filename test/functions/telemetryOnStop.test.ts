// The Application Insights path, as Azure runs it: APPLICATIONINSIGHTS_CONNECTION_STRING set, the Azure Monitor
// exporters posting to the ingestion endpoint (faked over HTTP). Export intervals are far longer than the test,
// so what arrives is what the stopping host flushed: nothing may be lost when an instance stops.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { IngestionFake } from '../fakes/ingestionFake';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { leakedForms } from '../support/secretForms';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const KEY = 'on-stop-access-key-c41f07';
const ingestion = new IngestionFake();
const bc = new BusinessCentralFake();
let app: TestApp;
let connectorId: string;
const sourceApp = `STOP${randomBytes(4).toString('hex').toUpperCase()}`;

beforeAll(async () => {
  // The fake ingestion endpoint has a self-signed certificate; only this test file's process accepts it.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  await ingestion.start();
  bc.basicUsers.set('SVC', KEY);
  await bc.start();
  app = await startTestApp({
    env: {
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=${ingestion.url}/`,
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_BLRP_SCHEDULE_DELAY: '600000',
      // The two changes surely meet in one $batch, even on a busy machine.
      SYNC_BATCH_LINGER_MS: '1000',
    },
  });
  const created = await app.fetch('/api/connectors', {
    method: 'POST',
    json: {
      name: 'on stop',
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: 'SVC',
      password: KEY,
    },
  });
  connectorId = (await jsonOf(created)).id;
  await app.fetch('/api/appointments', { method: 'POST', json: [changeMessage(sourceApp), changeMessage(sourceApp)] });
  await eventually(async () => {
    const page = await jsonOf(await app.fetch(`/api/deliveries?sourceApp=${sourceApp}`));
    return page.items.length === 2 && page.items.every((r: { status: string }) => r.status === 'delivered')
      ? true
      : undefined;
  }, 60_000);
  await app.stop();
}, 120_000);

afterAll(async () => {
  await bc.stop();
  await ingestion.stop();
});

describe('a stopping instance', () => {
  it('flushed its metrics to Application Insights, as customMetrics with the attributes as dimensions', () => {
    const metrics = ingestion.ofType('MetricData');
    const deliveries = metrics.filter(
      (m) => m.metrics?.[0]?.name === 'connector.deliveries' && m.properties?.['connector.id'] === connectorId,
    );
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      metrics: [{ name: 'connector.deliveries', value: 2 }],
      properties: {
        outcome: 'delivered',
        'connector.id': connectorId,
        'connector.name': 'on stop',
        back_office: 'bc-onprem',
        source_app: sourceApp,
      },
    });
  });

  it('flushed its spans: each delivery, and each request to the back office as a dependency', () => {
    const dependencies = ingestion.ofType('RemoteDependencyData');
    const deliver = dependencies.filter((d) => d.name === 'deliver' && d.properties?.['connector.id'] === connectorId);
    expect(deliver).toHaveLength(2);
    expect(deliver.every((d) => d.properties?.outcome === 'delivered')).toBe(true);
    // Both changes came in one request, so they went as one $batch: one HTTP dependency, linked to both.
    const requests = dependencies.filter((d) => d.type === 'Http' && d.name.startsWith('POST /BC/api/'));
    expect(requests.map((d) => [d.name, d.resultCode, d.target])).toEqual([
      ['POST /BC/api/dimeSoftware/dimeScheduler/v1.0/$batch', '200', '127.0.0.1'],
    ]);
    const batch = dependencies.find((d) => d.name === '$batch');
    expect(JSON.parse(batch?.properties?.['_MS.links'] ?? '[]')).toHaveLength(2);
  });

  it("flushed its log lines as traces, and none of it holds the connector's key", () => {
    const traces = ingestion.ofType('MessageData');
    expect(traces.some((t) => String(t.message).startsWith('delivery.outcome'))).toBe(true);
    expect(leakedForms(JSON.stringify(ingestion.envelopes), [KEY])).toEqual([]);
  });
});
