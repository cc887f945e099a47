// The service's telemetry, through the OpenTelemetry API alone. With no SDK registered (telemetry off, the local
// default) every call here is a no-op on the API's own no-op objects; telemetrySdk.ts registers the SDK when
// Application Insights or an OTLP endpoint is configured. Names and attributes are a contract: dashboards,
// alerts and the workbook (infra/) rely on them, and docs/monitoring.md lists them.
import { createHash } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Link,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

export const INSTRUMENTATION_SCOPE = 'backoffice-connector-service';

/** Buckets for latencies from milliseconds (one request) to an hour (a change that waited out retries). */
const LATENCY_BUCKETS_MS = [
  25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000,
];

function createInstruments(provider: MeterProvider) {
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
  return {
    /** One per settled change x connector: outcome = the row's status. */
    deliveries: meter.createCounter('connector.deliveries', {
      description: 'Changes settled per connector, by the status of their delivery row',
    }),
    /** From the producer's enqueue to the back office's answer (or the settlement, for a change not sent). */
    deliveryLatency: meter.createHistogram('connector.delivery.latency', {
      unit: 'ms',
      description: "From the producer's enqueue of a change to the back office's answer",
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    }),
    requestDuration: meter.createHistogram('backoffice.request.duration', {
      unit: 'ms',
      description: 'One request to a back office (a change, a $batch or a connection test), token included',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
    }),
    throttled: meter.createCounter('backoffice.throttled', { description: '429 answers from back offices' }),
    retries: meter.createCounter('connector.retries', {
      description: 'Changes queued again for a connector after a transient result',
    }),
    deferrals: meter.createCounter('connector.deferrals', {
      description:
        'Changes put back on the queue without an attempt: budget spent, principal throttled, or an older revision in flight',
    }),
    budgetSlots: meter.createUpDownCounter('budget.slots.in_use', {
      description: "Requests in flight under a principal's budget, per principal (hashed)",
    }),
    credentialDays: meter.createGauge('connector.credential.days_left', {
      unit: 'd',
      description: "Days until a connector's secret expires (negative: expired), from the daily check",
    }),
    connectorHealth: meter.createObservableGauge('connector.health.retrying', {
      description:
        "Deliveries of a connector waiting for a retry now; its attributes carry the connector's health (status, last failure, credential status)",
    }),
    queueAge: meter.createObservableGauge('sync.queue.oldest_age', {
      unit: 's',
      description: 'Age of the oldest visible message on a sync queue',
    }),
  };
}

export type Instruments = ReturnType<typeof createInstruments>;

let created: { provider: MeterProvider; instruments: Instruments } | undefined;

/** The instruments of the meter provider registered now (the API's no-op one when telemetry is off). */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (created?.provider !== provider) created = { provider, instruments: createInstruments(provider) };
  return created.instruments;
}

export const tracer = () => trace.getTracer(INSTRUMENTATION_SCOPE);

/** Whether anything records spans (the SDK is registered and sampling this context). */
export const tracing = () => trace.getActiveSpan()?.isRecording() ?? false;

/** The attributes every connector-scoped instrument and span carries. */
export const connectorAttributes = (c: { id: string; name: string; backOffice: string }): Attributes => ({
  'connector.id': c.id,
  'connector.name': c.name,
  back_office: c.backOffice,
});

/** A principal as an attribute: hashed, since it names a tenant and a client id. */
export const principalAttribute = (principal: string) =>
  createHash('sha256').update(principal).digest('hex').slice(0, 12);

/** 2xx .. 5xx, or "network" for a request that got no answer. */
export const statusClass = (status: number | null | undefined) =>
  status && status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'network';

/** The context a W3C traceparent continues (the producer's trace), or undefined when it is absent or invalid. */
export function contextOf(traceparent: unknown, base: Context = context.active()): Context | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const m = /^00-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/.exec(traceparent.trim());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return trace.setSpanContext(base, {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: Number.parseInt(m[3]!, 16) & 1,
    isRemote: true,
  });
}

/** The active span as a W3C traceparent (the host's request, when telemetry is on); undefined when there is none. */
export function currentTraceparent(): string | undefined {
  const span = trace.getSpanContext(context.active());
  if (!span || !isSpanContextValid(span)) return undefined;
  return `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent; the active context when not given. */
  parent?: Context;
}

/**
 * Runs `work` inside a new span, ended when it settles; a thrown error marks the span failed with the error's
 * name only (messages may carry request data; the log line has the redacted message).
 */
export async function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
    throw error;
  } finally {
    span.end();
  }
}

export type { Context, Link, Span };
export { context, propagation, SpanKind, SpanStatusCode, trace };
