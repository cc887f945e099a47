// A loopback TCP proxy that can be cut and restored ("the storage service is briefly unreachable"), or frozen
// and thawed ("it accepts connections but answers nothing", as a process stopped with SIGSTOP does).
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../src/local/ports';

export class TcpProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #pairs = new Set<[Socket, Socket]>();
  #frozen = false;
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
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      client.on('close', () => this.#pairs.delete(pair));
      if (!this.#frozen) this.#connect(pair);
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

  /** Connections are still accepted, but nothing passes either way until `thaw`. */
  freeze(): void {
    this.#frozen = true;
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  thaw(): void {
    this.#frozen = false;
    for (const pair of this.#pairs) this.#connect(pair);
  }

  #connect([client, upstream]: [Socket, Socket]): void {
    client.pipe(upstream).pipe(client);
  }
}
