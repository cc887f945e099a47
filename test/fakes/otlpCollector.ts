// An OpenTelemetry collector at the HTTP level: it takes OTLP/HTTP JSON exports (/v1/traces, /v1/metrics,
// /v1/logs), as the SDK's OTLP exporters send them, and keeps them for a test to read back as plain objects.
// `npm run fakes` serves one and prints a line per span, so `npm start` can be pointed at it.
import { HttpFake, jsonReply, type RecordedRequest } from './httpFake';

// biome-ignore lint/suspicious/noExplicitAny: OTLP JSON, read field by field
type Loose = Record<string, any>;

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };

const plainValue = (v: AnyValue): unknown =>
  v.stringValue ??
  (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
  v.doubleValue ??
  v.boolValue ??
  v.arrayValue?.values?.map(plainValue);

export const attributesOf = (list: KeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, plainValue(kv.value)]));

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
}

export interface CollectedPoint {
  name: string;
  attributes: Record<string, unknown>;
  /** A sum's value, or a histogram's count. */
  value: number;
  /** 1: delta, 2: cumulative */
  temporality: number;
}

export class OtlpCollector extends HttpFake {
  readonly spans: CollectedSpan[] = [];
  readonly points: CollectedPoint[] = [];
  readonly logs: Array<{ body: unknown; attributes: Record<string, unknown> }> = [];
  /** Told of every span as it arrives (npm run fakes prints them). */
  onSpan?: (span: CollectedSpan) => void;

  constructor() {
    super((req) => this.#collect(req));
  }

  #collect(req: RecordedRequest) {
    if (req.method !== 'POST') return jsonReply(405, {});
    const body = JSON.parse(req.body || '{}') as Record<string, unknown[]>;
    if (req.path === '/v1/traces') this.#spans(body);
    else if (req.path === '/v1/metrics') this.#metrics(body);
    else if (req.path === '/v1/logs') this.#logs(body);
    else return jsonReply(404, {});
    return jsonReply(200, {});
  }

  #spans(body: Record<string, unknown[]>) {
    for (const rs of (body.resourceSpans ?? []) as Array<Loose>) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? []) {
          const span: CollectedSpan = {
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            attributes: attributesOf(s.attributes),
            links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({
              traceId: l.traceId,
              spanId: l.spanId,
            })),
            status: s.status ?? {},
            resource,
          };
          this.spans.push(span);
          this.onSpan?.(span);
        }
    }
  }

  #metrics(body: Record<string, unknown[]>) {
    for (const rm of (body.resourceMetrics ?? []) as Array<Loose>)
      for (const sm of rm.scopeMetrics ?? [])
        for (const m of sm.metrics ?? []) {
          const data = m.sum ?? m.histogram ?? m.gauge;
          for (const p of data?.dataPoints ?? [])
            this.points.push({
              name: m.name,
              attributes: attributesOf(p.attributes),
              value: Number(p.asInt ?? p.asDouble ?? p.count ?? 0),
              temporality: data.aggregationTemporality ?? 0,
            });
        }
  }

  #logs(body: Record<string, unknown[]>) {
    for (const rl of (body.resourceLogs ?? []) as Array<Loose>)
      for (const sl of rl.scopeLogs ?? [])
        for (const l of sl.logRecords ?? [])
          this.logs.push({ body: l.body ? plainValue(l.body) : undefined, attributes: attributesOf(l.attributes) });
  }

  /** The newest value of each attribute set of a cumulative metric (what it adds up to now). */
  latest(name: string): CollectedPoint[] {
    const byAttributes = new Map<string, CollectedPoint>();
    for (const p of this.points.filter((x) => x.name === name)) byAttributes.set(JSON.stringify(p.attributes), p);
    return [...byAttributes.values()];
  }
}
