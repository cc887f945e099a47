// A loopback TCP proxy that can be cut and restored: "the storage service is briefly unreachable".
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../src/local/ports';

export class TcpProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<number> {
    this.port ||= await freePort();
    this.#server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.#server!.listen(this.port, '127.0.0.1', () => r()));
    return this.port;
  }

  /** Refuses new connections and breaks the open ones. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  restore = () => this.start();
}
