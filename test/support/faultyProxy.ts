// An HTTP proxy in front of a storage endpoint that fails chosen requests: "this one table write fails".
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultRule {
  method: string;
  /** Matched against the decoded request path, e.g. /connectors\(PartitionKey='app:B'/ */
  path: RegExp;
  /** How many matching requests fail (the SDK retries a 503 a few times). */
  times: number;
  status?: number;
}

export class FaultyProxy {
  #server: Server | undefined;
  readonly rules: FaultRule[] = [];
  /** Requests that were failed on purpose, as "METHOD path". */
  readonly failed: string[] = [];
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<number> {
    this.#server = createServer((req, res) => {
      const path = decodeURIComponent(req.url ?? '/');
      const rule = this.rules.find((r) => r.times > 0 && r.method === req.method && r.path.test(path));
      if (rule) {
        rule.times--;
        this.failed.push(`${req.method} ${path}`);
        req.resume();
        const body = JSON.stringify({ 'odata.error': { code: 'ServerBusy', message: { value: 'Injected failure.' } } });
        res.writeHead(rule.status ?? 503, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
        return;
      }
      const upstream = request(
        { host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.#server.address() as AddressInfo).port;
    return this.port;
  }

  fail(rule: FaultRule): void {
    this.rules.push(rule);
  }

  clear(): void {
    this.rules.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  }
}
