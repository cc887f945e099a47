// OData JSON $batch for Business Central REST API pages: many changes in one request, each with its own answer.
// No `Isolation: snapshot`, so one refused change cannot roll back the others.
import { z } from 'zod';
import type { Outcome } from '../model/outcome';
import type { PushBody } from '../model/pushBody';
import type { OutboundRequest, OutboundResponse } from './outboundHttp';
import { classifyResponse } from './outcome';

export interface BatchAddress {
  /** POST target: the API root (everything before /companies() plus /$batch. */
  url: string;
  /** Each operation's url, relative to the API root: companies({id})/appointments. */
  innerUrl: string;
}

/** Where a batch goes for this web service URI; undefined when the URI has no /companies( segment. */
export function batchAddress(webServiceUri: string): BatchAddress | undefined {
  const url = new URL(webServiceUri);
  const at = url.pathname.indexOf('/companies(');
  if (at < 0) return undefined;
  return {
    url: `${url.origin}${url.pathname.slice(0, at)}/$batch`,
    innerUrl: `${url.pathname.slice(at + 1)}${url.search}`,
  };
}

export function batchRequest(address: BatchAddress, bodies: PushBody[]): OutboundRequest {
  return {
    url: address.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      requests: bodies.map((body, i) => ({
        method: 'POST',
        id: String(i + 1),
        url: address.innerUrl,
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': body.id },
        body,
      })),
    }),
  };
}

const batchResponseSchema = z.object({
  responses: z.array(
    z.object({
      id: z.union([z.string(), z.number()]).transform(String),
      status: z.number().int(),
      headers: z.record(z.string(), z.unknown()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

/**
 * Each operation's outcome from a 200 batch answer; an operation the answer does not mention is transient
 * (it may not have run). Undefined when the answer is not a batch response at all.
 */
export function batchOutcomes(res: OutboundResponse, count: number): Outcome[] | undefined {
  let parsed: z.output<typeof batchResponseSchema>;
  try {
    const result = batchResponseSchema.safeParse(JSON.parse(res.body));
    if (!result.success) return undefined;
    parsed = result.data;
  } catch {
    return undefined;
  }
  const byId = new Map(parsed.responses.map((r) => [r.id, r]));
  return Array.from({ length: count }, (_, i) => {
    const inner = byId.get(String(i + 1));
    if (!inner)
      return {
        kind: 'transient',
        code: 'http.server-error',
        message: 'the batch answer did not include this operation',
        status: res.status,
        durationMs: res.durationMs,
      } satisfies Outcome;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(inner.headers ?? {})) headers[k.toLowerCase()] = String(v);
    return classifyResponse({
      status: inner.status,
      headers,
      body: inner.body === undefined ? '' : typeof inner.body === 'string' ? inner.body : JSON.stringify(inner.body),
      durationMs: res.durationMs,
    });
  });
}
