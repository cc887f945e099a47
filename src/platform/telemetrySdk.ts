// The OpenTelemetry SDK, loaded only when telemetry is configured (telemetryStart.ts): trace, metric and log
// providers registered as the API's globals, exporting to Application Insights (APPLICATIONINSIGHTS_CONNECTION_
// STRING, with Entra authentication when APPLICATIONINSIGHTS_AUTHENTICATION_STRING says so) and/or to an OTLP
// endpoint (the standard OTEL_EXPORTER_OTLP_* variables). @azure/functions-opentelemetry-instrumentation tells
// the host that the worker sends its own telemetry, parents each invocation on the host's trace context, and
// sends the invocation's log lines as log records. Everything exported passes the redaction the logs pass.
// The caller hands over the app's own pieces (the redaction, the functions module), so tests can start it with
// exporters of their own.
import type * as functionsModule from '@azure/functions';
import { AzureFunctionsInstrumentationESM } from '@azure/functions-opentelemetry-instrumentation';
import { ManagedIdentityCredential } from '@azure/identity';
import {
  AzureMonitorLogExporter,
  AzureMonitorMetricExporter,
  AzureMonitorTraceExporter,
} from '@azure/monitor-opentelemetry-exporter';
import { type Attributes, context, metrics, propagation, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  type LogRecordProcessor,
  type SdkLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  MeterProvider,
  type MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface TelemetryOptions {
  env: NodeJS.ProcessEnv;
  /** The @azure/functions module the app registers with: the instrumentation hooks into it (none: no hooks). */
  functions?: typeof functionsModule;
  /** The app's redaction (registered secrets and credential patterns). */
  redact(text: string): string;
  serviceName: string;
  serviceVersion: string;
  instanceId: string;
  /** Test seam: exporters of one's own instead of those the environment names. */
  exporters?: Exporters;
  /** Test seam: a metric reader of one's own (collected on demand) besides the exporters'. */
  metricReaders?: MetricReader[];
}

export interface Exporters {
  spans: SpanExporter[];
  metrics: PushMetricExporter[];
  logs: LogRecordExporter[];
}

export interface RunningTelemetry {
  /** Where telemetry goes, for the start banner (no secrets: endpoints only). */
  destinations: string[];
  forceFlush(): Promise<void>;
  /** Flushes and stops every provider; the API's globals go back to no-ops. */
  shutdown(): Promise<void>;
}

const positive = (value: string | undefined, fallback: number) => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

/** `Authorization=AAD;ClientId=<guid>`: Application Insights ingestion with the app's managed identity. */
function entraCredential(env: NodeJS.ProcessEnv) {
  const parts = new Map(
    (env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '').split(';').map((kv) => {
      const at = kv.indexOf('=');
      return [kv.slice(0, at).trim().toLowerCase(), kv.slice(at + 1).trim()] as const;
    }),
  );
  if (parts.get('authorization')?.toUpperCase() !== 'AAD') return undefined;
  const clientId = parts.get('clientid') || env.AZURE_CLIENT_ID;
  return new ManagedIdentityCredential(clientId ? { clientId } : {});
}

/** The exporters the environment names: Application Insights, OTLP, or both. */
export function exportersFromEnv(env: NodeJS.ProcessEnv): Exporters & { destinations: string[] } {
  const out: Exporters & { destinations: string[] } = { spans: [], metrics: [], logs: [], destinations: [] };
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (connectionString) {
    const credential = entraCredential(env);
    const options = { connectionString, ...(credential ? { credential } : {}) };
    out.spans.push(new AzureMonitorTraceExporter(options));
    out.metrics.push(new AzureMonitorMetricExporter(options));
    out.logs.push(new AzureMonitorLogExporter(options));
    const ingestion = /IngestionEndpoint=([^;]+)/i.exec(connectionString)?.[1] ?? 'the default ingestion endpoint';
    out.destinations.push(`Application Insights at ${ingestion}${credential ? ' (Entra)' : ''}`);
  }
  // The OTLP exporters read OTEL_EXPORTER_OTLP_* themselves (endpoint, headers, timeouts, temporality).
  const otlp = (signal: string) =>
    env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (otlp('TRACES')) out.spans.push(new OTLPTraceExporter());
  if (otlp('METRICS')) out.metrics.push(new OTLPMetricExporter());
  if (otlp('LOGS')) out.logs.push(new OTLPLogExporter());
  const endpoint = otlp('TRACES') ?? otlp('METRICS') ?? otlp('LOGS');
  if (endpoint) out.destinations.push(`OTLP at ${endpoint}`);
  return out;
}

/** The attributes whose values redaction changes, redacted (undefined when none changes). */
function redactedAttributes(attributes: Attributes, redact: (text: string) => string): Attributes | undefined {
  const changed: Attributes = {};
  let any = false;
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string') {
      const clean = redact(value);
      if (clean === value) continue;
      changed[key] = clean;
    } else if (Array.isArray(value)) changed[key] = value.map((v) => (typeof v === 'string' ? redact(v) : v)) as never;
    else continue;
    any = true;
  }
  return any ? changed : undefined;
}

/** Redacts a span's name, attributes, events and status before any exporter sees it (the span still records). */
function redactingSpanProcessor(redact: (text: string) => string): SpanProcessor {
  return {
    onStart() {},
    onEnding(span: Span) {
      const name = redact(span.name);
      if (name !== span.name) span.updateName(name);
      const attributes = redactedAttributes(span.attributes, redact);
      if (attributes) span.setAttributes(attributes);
      for (const event of span.events) {
        event.name = redact(event.name);
        if (event.attributes) Object.assign(event.attributes, redactedAttributes(event.attributes, redact));
      }
      if (span.status.message) span.setStatus({ ...span.status, message: redact(span.status.message) });
    },
    onEnd() {},
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

function redactingLogProcessor(redact: (text: string) => string): LogRecordProcessor {
  return {
    onEmit(record: SdkLogRecord) {
      if (typeof record.body === 'string') record.setBody(redact(record.body));
      const attributes = redactedAttributes(record.attributes as Attributes, redact);
      if (attributes) record.setAttributes(attributes);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

/** Metric attributes are the service's own (ids, names, codes), but connector names are the user's: redacted too. */
function redactingMetricExporter(inner: PushMetricExporter, redact: (text: string) => string): PushMetricExporter {
  return {
    export(resourceMetrics, done) {
      for (const scope of resourceMetrics.scopeMetrics)
        for (const metric of scope.metrics)
          for (const point of metric.dataPoints)
            Object.assign(point.attributes, redactedAttributes(point.attributes, redact));
      inner.export(resourceMetrics, done);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    ...(inner.selectAggregationTemporality
      ? { selectAggregationTemporality: (type) => inner.selectAggregationTemporality!(type) }
      : {}),
    ...(inner.selectAggregation ? { selectAggregation: (type) => inner.selectAggregation!(type) } : {}),
  };
}

export function startTelemetry(options: TelemetryOptions): RunningTelemetry {
  const { env, redact } = options;
  const found = options.exporters
    ? { ...options.exporters, destinations: ['exporters of the caller'] }
    : exportersFromEnv(env);
  const resource = resourceFromAttributes({
    'service.name': env.OTEL_SERVICE_NAME?.trim() || options.serviceName,
    'service.version': options.serviceVersion,
    'service.instance.id': options.instanceId,
  }).merge(detectResources({ detectors: [envDetector] }));

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  // The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the SDK reads them; parent-based always-on).
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [redactingSpanProcessor(redact), ...found.spans.map((e) => new BatchSpanProcessor(e))],
  });
  trace.setGlobalTracerProvider(tracerProvider);

  const exportIntervalMillis = positive(env.OTEL_METRIC_EXPORT_INTERVAL, 60_000);
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      ...found.metrics.map(
        (e) =>
          new PeriodicExportingMetricReader({
            exporter: redactingMetricExporter(e, redact),
            exportIntervalMillis,
            exportTimeoutMillis: Math.min(exportIntervalMillis, positive(env.OTEL_METRIC_EXPORT_TIMEOUT, 30_000)),
          }),
      ),
      ...(options.metricReaders ?? []),
    ],
  });
  metrics.setGlobalMeterProvider(meterProvider);

  const loggerProvider = new LoggerProvider({
    resource,
    processors: [redactingLogProcessor(redact), ...found.logs.map((e) => new BatchLogRecordProcessor(e))],
  });
  logs.setGlobalLoggerProvider(loggerProvider);

  // Patched by hand, not through require hooks: the app has loaded @azure/functions already.
  if (options.functions) {
    const instrumentation = new AzureFunctionsInstrumentationESM({ enabled: false });
    instrumentation.setTracerProvider(tracerProvider);
    instrumentation.setLoggerProvider(loggerProvider);
    instrumentation.registerAzFunc(options.functions);
  }

  let stopped: Promise<void> | undefined;
  return {
    destinations: found.destinations,
    async forceFlush() {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush(), loggerProvider.forceFlush()]);
    },
    shutdown() {
      stopped ??= (async () => {
        await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
        trace.disable();
        metrics.disable();
        logs.disable();
        propagation.disable();
        context.disable();
      })();
      return stopped;
    },
  };
}
