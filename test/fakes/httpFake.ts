// A tiny loopback HTTP server base for the fakes: records every request, answers through a handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: string;
  /** The body's bytes as they came (a gzipped body is not text). */
  raw?: Buffer;
  /** Which TCP connection it came on (1, 2, ...): NTLM authenticates a connection. */
  connection: number;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'reset';
export type Handler = (req: RecordedRequest) => Reply | Promise<Reply>;

export class HttpFake {
  readonly requests: RecordedRequest[] = [];
  #server: Server | undefined;
  readonly #connections = new WeakMap<object, number>();
  #nextConnection = 1;
  url = '';
  latencyMs = 0;

  constructor(
    private readonly handler: Handler,
    /** Serve HTTPS with this key and certificate (test/fixtures/tls) instead of HTTP. */
    private readonly tls?: { key: string; cert: string },
  ) {}

  start(): Promise<string> {
    return this.listen(0);
  }

  async listen(port: number): Promise<string> {
    const serve = (req: IncomingMessage, res: ServerResponse) => void this.#serve(req, res);
    this.#server = this.tls ? createTlsServer(this.tls, serve) : createServer(serve);
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let connection = this.#connections.get(req.socket);
    if (connection === undefined) {
      connection = this.#nextConnection++;
      this.#connections.set(req.socket, connection);
    }
    const recorded = {
      connection,
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
      raw: Buffer.concat(chunks),
    };
    this.requests.push(recorded);
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    const reply = await this.handler(recorded);
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    const body = reply.body ?? '';
    res.writeHead(reply.status, { 'content-length': Buffer.byteLength(body), ...reply.headers });
    res.end(body);
  }
}

export const jsonReply = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(value),
});
