// The host's HTTP front end: routes requests to HTTP-triggered functions by route template and method,
// and serves POST /admin/functions/{name} for the other triggers.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { problemContentType, problemTypeBase } from '../platform/problem';
import { type CompiledRoute, compareRoutes, compileRoute } from '../platform/routeTemplate';
import type { RegisteredFunction } from './coreStub';

/** Same cap as the host's default maxRequestBodySize (100 MB). */
const MAX_BODY_BYTES = 100 * 1024 * 1024;

export interface HttpRoute {
  fn: RegisteredFunction;
  route: CompiledRoute;
  methods: string[];
}

export function httpRoutesOf(functions: Iterable<RegisteredFunction>): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const fn of functions) {
    const trigger = Object.values(fn.metadata.bindings).find((b) => b.type === 'httpTrigger');
    if (!trigger) continue;
    const template = typeof trigger.route === 'string' && trigger.route ? trigger.route : fn.metadata.name;
    const methods = Array.isArray(trigger.methods) ? trigger.methods.map((m) => String(m).toUpperCase()) : [];
    routes.push({ fn, route: compileRoute(template), methods });
  }
  return routes.sort((a, b) => compareRoutes(a.route, b.route));
}

export type RouteResolution =
  | { kind: 'match'; route: HttpRoute; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

/** First route (in precedence order) whose template and method match; 405 when only the method is wrong. */
export function resolveRoute(routes: HttpRoute[], method: string, path: string): RouteResolution {
  const allowed = new Set<string>();
  for (const route of routes) {
    const params = route.route.match(path);
    if (!params) continue;
    if (route.methods.length === 0 || route.methods.includes(method)) return { kind: 'match', route, params };
    for (const m of route.methods) allowed.add(m);
  }
  return allowed.size ? { kind: 'method-not-allowed', allowed: [...allowed] } : { kind: 'not-found' };
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendProblem(
  res: ServerResponse,
  status: number,
  code: string,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ type: `${problemTypeBase}${code}`, title, status, detail });
  res.writeHead(status, { 'content-type': problemContentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** A child span of the caller's trace, or a new trace, as the host's activity does for every request. */
export function traceParentFor(incoming: string | undefined): string {
  const m = incoming ? /^00-([\da-f]{32})-[\da-f]{16}-([\da-f]{2})$/.exec(incoming.trim()) : null;
  const traceId = m && !/^0+$/.test(m[1]!) ? m[1] : randomBytes(16).toString('hex');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${m?.[2] ?? '01'}`;
}

/** RPC http typed data, the shape the worker hands to the library's HttpRequest converter. */
export function toRpcHttpRequest(
  req: IncomingMessage,
  url: URL,
  params: Record<string, string>,
  body: Buffer,
): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
  return {
    http: {
      method: req.method ?? 'GET',
      url: url.toString(),
      headers,
      query,
      params,
      body: body.length ? { bytes: new Uint8Array(body) } : undefined,
    },
  };
}

interface RpcHttpResponse {
  statusCode?: string;
  headers?: Record<string, string>;
  cookies?: Array<{ name: string; value: string; path?: { value?: string }; httpOnly?: { value?: boolean } }>;
  body?: { bytes?: Uint8Array; string?: string };
}

export function writeRpcHttpResponse(res: ServerResponse, returnValue: unknown): void {
  const http = (returnValue as { http?: RpcHttpResponse } | undefined)?.http;
  if (!http) {
    // A function that returns nothing: the host answers 204 with no body.
    res.writeHead(204);
    res.end();
    return;
  }
  const body = http.body?.bytes ? Buffer.from(http.body.bytes) : Buffer.from(http.body?.string ?? '');
  const headers: Record<string, string | string[]> = { ...(http.headers ?? {}) };
  if (http.cookies?.length) headers['set-cookie'] = http.cookies.map((c) => `${c.name}=${c.value}`);
  headers['content-length'] = String(body.length);
  res.writeHead(Number(http.statusCode ?? 200), headers);
  res.end(body);
}
