// Outbound HTTP to back offices. node:http(s) rather than fetch because the URI guard has to run inside the
// socket's DNS lookup: the address that is checked is the address that is connected to (no rebinding window).
// Keep-alive agents per scheme, connect and total timeouts, a cap on response bodies, no redirects followed.
// Each request is a client span and carries its traceparent, so the back office's logs can join the trace.
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { context, inSpan, propagation, SpanKind, SpanStatusCode } from '../platform/telemetry';
import { checkResolvedAddresses, type Resolver } from './uriGuard';

export interface OutboundRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  durationMs: number;
  /** Sent on a connection an earlier request had opened (keep-alive). */
  reusedConnection?: boolean;
}

export type NetworkErrorKind =
  | 'timeout'
  | 'connect-timeout'
  | 'connection-failed'
  | 'dns-failed'
  | 'tls-failed'
  | 'address-blocked'
  | 'response-too-large';

export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    readonly kind: NetworkErrorKind,
    message: string,
    readonly durationMs: number,
  ) {
    super(message);
  }
}

export interface OutboundOptions {
  allowLoopback: boolean;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxResponseBytes?: number;
  maxSocketsPerHost?: number;
  /** Test seam: DNS resolution (defaults to the system resolver). */
  resolve?: Resolver;
}

export type OutboundHttp = ((request: OutboundRequest) => Promise<OutboundResponse>) & {
  /**
   * Proves a host can be reached without sending a request: the guarded DNS lookup, a TCP connection and, for
   * https, the TLS handshake; then the connection is closed. Rejects with a NetworkError.
   */
  probe(url: string): Promise<{ durationMs: number }>;
  /**
   * Requests that share one connection of their own, for a handshake that authenticates the connection (NTLM);
   * the same guards apply. Close it when done.
   */
  connection(): OutboundConnection;
};

export interface OutboundConnection {
  send(request: OutboundRequest): Promise<OutboundResponse>;
  close(): void;
}

const TLS_CODES =
  /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|EPROTO$|HOSTNAME_MISMATCH)/;

/** A socket or request error as a NetworkError of the right kind. */
function networkErrorOf(error: NodeJS.ErrnoException, host: string, durationMs: number): NetworkError {
  if (error.code === 'EBLOCKED') return new NetworkError('address-blocked', error.message, durationMs);
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
    return new NetworkError('dns-failed', `the host name ${host.replace(/:\d+$/, '')} does not resolve`, durationMs);
  if (error.code && TLS_CODES.test(error.code))
    return new NetworkError('tls-failed', `${error.code}: the TLS handshake with ${host} failed`, durationMs);
  return new NetworkError(
    'connection-failed',
    `${error.code ?? 'error'}: the connection to ${host} failed`,
    durationMs,
  );
}

export function createOutboundHttp(options: OutboundOptions): OutboundHttp & { close(): void } {
  // Shared by send and probe.
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 100_000;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;

  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    checkResolvedAddresses(hostname, { allowLoopback: options.allowLoopback }, options.resolve).then(
      (addresses) => {
        const address = addresses[0]!;
        const family = address.includes(':') ? 6 : 4;
        if ((lookupOptions as { all?: boolean }).all) {
          (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(
            null,
            addresses.map((a) => ({ address: a, family: a.includes(':') ? 6 : 4 })),
          );
        } else callback(null, address, family);
      },
      (error: Error) =>
        callback(
          Object.assign(error, {
            code:
              error.name === 'BlockedAddressError' ? 'EBLOCKED' : ((error as { code?: string }).code ?? 'ENOTFOUND'),
          }),
          '',
          4,
        ),
    );
  };
  type Agents = { 'http:': http.Agent; 'https:': https.Agent };
  const agentsOf = (maxSockets: number): Agents => {
    const agentOptions = { keepAlive: true, maxSockets, lookup: guardedLookup, timeout: totalTimeoutMs };
    return { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  };
  const agents = agentsOf(options.maxSocketsPerHost ?? 16);

  /** Node does not call `lookup` for an IP literal: literals are checked here, before any socket opens. */
  const checkLiteral = async (hostname: string) => {
    const bare = hostname.replace(/^\[|\]$/g, '');
    if (!isIP(bare)) return;
    try {
      await checkResolvedAddresses(bare, { allowLoopback: options.allowLoopback });
    } catch (error) {
      throw new NetworkError('address-blocked', (error as Error).message, 0);
    }
  };

  const send = async (request: OutboundRequest): Promise<OutboundResponse> => {
    await checkLiteral(new URL(request.url).hostname);
    return sendTraced(request, agents);
  };

  const connection = (): OutboundConnection => {
    const own = agentsOf(1);
    return {
      async send(request) {
        await checkLiteral(new URL(request.url).hostname);
        return sendTraced(request, own);
      },
      close() {
        own['http:'].destroy();
        own['https:'].destroy();
      },
    };
  };

  const probe = async (target: string): Promise<{ durationMs: number }> => {
    const url = new URL(target);
    await checkLiteral(url.hostname);
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const secure = url.protocol === 'https:';
    const port = Number(url.port || (secure ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      let socket: Socket;
      const done = (error?: NetworkError) => {
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve({ durationMs: elapsed() });
      };
      const timer = setTimeout(
        () => done(new NetworkError('connect-timeout', `could not connect within ${connectTimeoutMs} ms`, elapsed())),
        connectTimeoutMs,
      );
      socket = secure
        ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host, lookup: guardedLookup }, () => done())
        : netConnect({ host, port, lookup: guardedLookup }, () => done());
      socket.once('error', (error: NodeJS.ErrnoException) => done(networkErrorOf(error, url.host, elapsed())));
    });
  };

  /** The request as a client span (OpenTelemetry HTTP conventions; no query string: it may hold a key). */
  const sendTraced = (request: OutboundRequest, agents: Agents): Promise<OutboundResponse> => {
    const url = new URL(request.url);
    const attributes = {
      'http.request.method': request.method,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'url.full': `${url.origin}${url.pathname}`,
    };
    return inSpan(request.method, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const headers = { ...request.headers };
      propagation.inject(context.active(), headers);
      try {
        const res = await sendChecked({ ...request, headers }, agents);
        span.setAttribute('http.response.status_code', res.status);
        if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
        return res;
      } catch (error) {
        if (error instanceof NetworkError) span.setAttribute('error.type', error.kind);
        throw error;
      }
    });
  };

  const sendChecked = (request: OutboundRequest, agents: Agents): Promise<OutboundResponse> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const url = new URL(request.url);
      const agent = agents[url.protocol as 'http:' | 'https:'];
      if (!agent) return reject(new NetworkError('connection-failed', `unsupported scheme ${url.protocol}`, 0));
      const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
      const transport = url.protocol === 'https:' ? https : http;
      let settled = false;
      const fail = (error: NetworkError) => {
        if (settled) return;
        settled = true;
        clearTimeout(total);
        clearTimeout(connect);
        req.destroy();
        reject(error);
      };
      const req = transport.request(url, {
        method: request.method,
        agent,
        headers: { ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      });
      const total = setTimeout(
        () => fail(new NetworkError('timeout', `no complete answer within ${totalTimeoutMs} ms`, elapsed())),
        totalTimeoutMs,
      );
      const connect = setTimeout(
        () => fail(new NetworkError('connect-timeout', `could not connect within ${connectTimeoutMs} ms`, elapsed())),
        connectTimeoutMs,
      );
      req.on('socket', (socket) => {
        if (!socket.connecting)
          clearTimeout(connect); // a reused keep-alive socket
        else socket.once('connect', () => clearTimeout(connect));
      });
      req.on('error', (error: NodeJS.ErrnoException) => fail(networkErrorOf(error, url.host, elapsed())));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) {
            fail(new NetworkError('response-too-large', `the response exceeded ${maxResponseBytes} bytes`, elapsed()));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', () =>
          fail(new NetworkError('connection-failed', `the connection to ${url.host} broke mid-response`, elapsed())),
        );
        res.on('aborted', () =>
          fail(new NetworkError('connection-failed', `the connection to ${url.host} broke mid-response`, elapsed())),
        );
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(total);
          clearTimeout(connect);
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
            durationMs: elapsed(),
            reusedConnection: req.reusedSocket,
          });
        });
      });
      req.end(body);
    });

  return Object.assign(send, {
    probe,
    connection,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}
