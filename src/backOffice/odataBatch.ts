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
 * What a $batch answer says of the changes it carried: an outcome per change, or, when the answer does not
 * confirm each change, why not (the changes are then sent again one by one; nothing is counted delivered).
 */
export type BatchAnswer = { kind: 'outcomes'; outcomes: Outcome[] } | { kind: 'unconfirmed'; reason: string };

/**
 * Reads a 2xx answer to a $batch of `count` operations. Only a 200 whose body is a batch response gives
 * outcomes: another 2xx (a proxy's 204, an OData respond-async 202) says nothing of the operations, and a body
 * that names an operation twice, or one that was not sent, is not an answer to this request. An operation the
 * answer leaves out is transient (it may not have run).
 */
export function readBatchAnswer(res: OutboundResponse, count: number): BatchAnswer {
  if (res.status !== 200)
    return { kind: 'unconfirmed', reason: `the $batch was answered ${res.status}, without a result per change` };
  let parsed: z.output<typeof batchResponseSchema>;
  try {
    const result = batchResponseSchema.safeParse(JSON.parse(res.body));
    if (!result.success) return { kind: 'unconfirmed', reason: 'the $batch answer is not a batch response' };
    parsed = result.data;
  } catch {
    return { kind: 'unconfirmed', reason: 'the $batch answer is not JSON' };
  }
  const sent = new Set(Array.from({ length: count }, (_, i) => String(i + 1)));
  const byId = new Map<string, (typeof parsed.responses)[number]>();
  for (const inner of parsed.responses) {
    if (!sent.has(inner.id))
      return { kind: 'unconfirmed', reason: `the $batch answer names operation ${inner.id}, which was not sent` };
    if (byId.has(inner.id))
      return { kind: 'unconfirmed', reason: `the $batch answer names operation ${inner.id} twice` };
    byId.set(inner.id, inner);
  }
  const outcomes = Array.from({ length: count }, (_, i): Outcome => {
    const inner = byId.get(String(i + 1));
    if (!inner)
      return {
        kind: 'transient',
        code: 'http.server-error',
        message: 'the batch answer did not include this operation',
        status: res.status,
        durationMs: res.durationMs,
      };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(inner.headers ?? {})) headers[k.toLowerCase()] = String(v);
    return classifyResponse({
      status: inner.status,
      headers,
      body: inner.body === undefined ? '' : typeof inner.body === 'string' ? inner.body : JSON.stringify(inner.body),
      durationMs: res.durationMs,
    });
  });
  return { kind: 'outcomes', outcomes };
}
