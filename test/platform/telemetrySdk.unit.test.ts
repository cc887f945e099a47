// The SDK's assembly: which exporters the environment names, the standard OTEL_* variables it honours, and
// when telemetry counts as configured at all.
import { metrics, trace } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { redact } from '../../src/platform/redact';
import { exportersFromEnv, type RunningTelemetry, startTelemetry } from '../../src/platform/telemetrySdk';
import { telemetryConfigured } from '../../src/platform/telemetryStart';
import { eventually } from '../support/eventually';

let running: RunningTelemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
  delete process.env.OTEL_TRACES_SAMPLER;
});

const start = (
  env: NodeJS.ProcessEnv,
  spans = new InMemorySpanExporter(),
  metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
) => {
  running = startTelemetry({
    env,
    redact,
    serviceName: 'unit',
    serviceVersion: '0.0.0',
    instanceId: 'i',
    exporters: { spans: [spans], metrics: [metricExporter], logs: [] },
  });
  return { spans, metricExporter };
};

describe('telemetryConfigured', () => {
  it.each([
    [{}, false],
    [{ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'TRUE' }, false],
  ])('%j: %s', (env, configured) => {
    expect(telemetryConfigured(env)).toBe(configured);
  });
});

describe('exportersFromEnv', () => {
  it('names Application Insights, with Entra when the authentication string says AAD, and OTLP', () => {
    const both = exportersFromEnv({
      APPLICATIONINSIGHTS_CONNECTION_STRING:
        'InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=11111111-1111-1111-1111-111111111111;Authorization=AAD',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    });
    expect(both.destinations).toEqual([
      'Application Insights at https://westeurope-5.in.applicationinsights.azure.com/ (Entra)',
      'OTLP at http://127.0.0.1:4318',
    ]);
    expect([both.spans.length, both.metrics.length, both.logs.length]).toEqual([2, 2, 2]);
    const keyOnly = exportersFromEnv({
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000001',
    });
    expect(keyOnly.destinations).toEqual(['Application Insights at the default ingestion endpoint']);
    // A connection string the exporter cannot read fails the start (the entry then runs without telemetry).
    expect(() => exportersFromEnv({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x' })).toThrow(
      'Invalid instrumentation key',
    );
  });

  it('exports only the signals an OTLP endpoint is given for', () => {
    const tracesOnly = exportersFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' });
    expect([tracesOnly.spans.length, tracesOnly.metrics.length, tracesOnly.logs.length]).toEqual([1, 0, 0]);
  });
});

describe('the standard variables', () => {
  it('OTEL_TRACES_SAMPLER=always_off records no span; the default records them', async () => {
    process.env.OTEL_TRACES_SAMPLER = 'always_off';
    const off = start(process.env);
    trace.getTracer('t').startSpan('dropped').end();
    await running!.forceFlush();
    expect(off.spans.getFinishedSpans()).toEqual([]);
    await running!.shutdown();
    delete process.env.OTEL_TRACES_SAMPLER;
    const on = start(process.env);
    trace.getTracer('t').startSpan('kept').end();
    await running!.forceFlush();
    expect(on.spans.getFinishedSpans().map((s) => s.name)).toEqual(['kept']);
  });

  it('OTEL_METRIC_EXPORT_INTERVAL sets how often metrics go out (ms)', async () => {
    const { metricExporter } = start({ OTEL_METRIC_EXPORT_INTERVAL: '100' });
    metrics.getMeter('m').createCounter('ticks').add(3);
    // Without a flush: the reader exports on its own within a few intervals (the default would be a minute).
    await eventually(() => (metricExporter.getMetrics().length >= 2 ? true : undefined), 10_000);
  });

  it('redacts a secret in a span attribute, a span name and a status message', async () => {
    const { spans } = start({});
    const span = trace.getTracer('t').startSpan('call with Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln');
    span.setAttribute('note', 'password=hunter2-hunter2');
    span.setStatus({ code: 2, message: 'client_secret=abc123456789' });
    span.end();
    await running!.forceFlush();
    const [exported] = spans.getFinishedSpans();
    expect(exported!.name).toBe('call with Bearer ***');
    expect(exported!.attributes.note).toBe('password=***');
    expect(exported!.status.message).toBe('client_secret=***');
  });
});
