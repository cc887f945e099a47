// Every answer of a back office, and every way of not getting one, becomes one of four outcomes with a
// stable, documented code (the catalogue is model/outcome.ts).
import type { Outcome, OutcomeCode, OutcomeKind } from '../model/outcome';
import { redactAndTruncate } from '../platform/redact';
import type { NetworkError, OutboundResponse } from './outboundHttp';

export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const decodeEntities = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&');
const clean = (s: string | undefined) =>
  s === undefined ? undefined : redactAndTruncate(decodeEntities(s).replace(/\s+/g, ' ').trim(), 500) || undefined;
const tag = (xml: string, name: string) =>
  new RegExp(`<(?:[\\w.-]+:)?${name}\\b[^>]*>([\\s\\S]*?)</(?:[\\w.-]+:)?${name}>`, 'i').exec(xml)?.[1];

/** Code and message from an OData JSON, Entra JSON, problem+json, OData XML, SOAP fault or HTML error body. */
export function parseErrorBody(body: string): { code?: string; message?: string; fault?: boolean } {
  const text = body.trim();
  if (!text) return {};
  if (text.startsWith('{')) {
    try {
      const json = JSON.parse(text) as Record<string, unknown>;
      const error = json.error;
      if (error && typeof error === 'object') {
        const e = error as { code?: unknown; message?: unknown };
        return {
          code: clean(String(e.code ?? '')),
          message: clean(typeof e.message === 'string' ? e.message : undefined),
        };
      }
      if (typeof error === 'string') {
        const description =
          typeof json.error_description === 'string' ? json.error_description.split(/\r?\n/)[0] : undefined;
        return { code: clean(error), message: clean(description) };
      }
      return {
        code: clean(typeof json.code === 'string' ? json.code : undefined),
        message: clean(String(json.detail ?? json.message ?? json.title ?? '')),
      };
    } catch {
      return { message: clean(text.slice(0, 200)) };
    }
  }
  if (text.startsWith('<')) {
    const faultString = tag(text, 'faultstring');
    if (faultString !== undefined || tag(text, 'Fault') !== undefined) {
      const faultCode = tag(text, 'faultcode');
      return { code: clean(faultCode?.replace(/^[\w.-]+:/, '')), message: clean(faultString), fault: true };
    }
    const code = tag(text, 'code');
    const message = tag(text, 'message');
    if (code !== undefined || message !== undefined) return { code: clean(code), message: clean(message) };
    const title = tag(text, 'title') ?? tag(text, 'h1');
    return { message: clean((title ?? text).replace(/<[^>]+>/g, ' ')) };
  }
  return { message: clean(text.slice(0, 500)) };
}

const outcome = (
  kind: OutcomeKind,
  code: OutcomeCode,
  message: string,
  extra: Partial<Outcome> & { durationMs: number },
): Outcome => ({
  kind,
  code,
  message,
  ...extra,
});

export function classifyResponse(res: OutboundResponse): Outcome {
  const { status, durationMs } = res;
  const parsed = status >= 300 ? parseErrorBody(res.body) : {};
  const base = { status, durationMs, ...(parsed.code ? { upstreamCode: parsed.code } : {}) };
  const say = (fallback: string) => parsed.message ?? fallback;
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  const transient = (code: OutcomeCode, fallback: string) =>
    outcome('transient', code, say(fallback), { ...base, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

  if (status >= 200 && status < 300) return outcome('delivered', 'delivered', `accepted (${status})`, base);
  if (status >= 300 && status < 400)
    return outcome(
      'permanent',
      'http.redirect',
      `redirect to ${res.headers.location ?? 'elsewhere'} not followed`,
      base,
    );
  if (status === 409 || parsed.code === 'Internal_EntityWithSameKeyExists')
    return outcome('duplicate', 'duplicate', say('already delivered'), base);
  if (parsed.fault) {
    if (/already exists/i.test(parsed.message ?? ''))
      return outcome('duplicate', 'duplicate', say('already delivered'), base);
    if (status >= 500 && /busy|timed? ?out|throttl|too many/i.test(parsed.message ?? ''))
      return transient('soap.busy', 'the SOAP service is busy');
    if (status !== 429 && status !== 503) return outcome('permanent', 'soap.fault', say('SOAP fault'), base);
  }
  if (status === 429) return transient('http.throttled', 'too many requests');
  if (status === 408 || status === 504) return transient('http.timeout', 'the back office timed out');
  if (status >= 500 && status !== 501 && status !== 505)
    return transient('http.server-error', `server error ${status}`);
  if (status === 401 || status === 403) return outcome('permanent', 'auth.rejected', say('unauthorized'), base);
  if (status === 404) return outcome('permanent', 'http.not-found', say('not found'), base);
  if (status === 405) return outcome('permanent', 'http.not-allowed', say('method not allowed'), base);
  if (status === 413) return outcome('permanent', 'http.too-large', say('body too large'), base);
  return outcome('permanent', 'http.rejected', say(`refused with ${status}`), base);
}

export function classifyNetworkError(error: NetworkError): Outcome {
  const durationMs = error.durationMs;
  switch (error.kind) {
    case 'address-blocked':
      return outcome('permanent', 'config.address-blocked', error.message, { durationMs });
    case 'response-too-large':
      return outcome('permanent', 'net.response-too-large', error.message, { durationMs });
    case 'dns-failed':
      return outcome('transient', 'net.dns-failed', error.message, { durationMs });
    case 'timeout':
      return outcome('transient', 'net.timeout', error.message, { durationMs });
    case 'connect-timeout':
      return outcome('transient', 'net.connect-timeout', error.message, { durationMs });
    case 'tls-failed':
      return outcome('transient', 'net.tls-failed', error.message, { durationMs });
    default:
      return outcome('transient', 'net.connection-failed', error.message, { durationMs });
  }
}
