import { createServer, Socket } from 'node:net';

/** A port the OS says is free right now (bind to 0, read, release). */
export function freePort(hostname = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, hostname, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A port the local runtime needs, what takes it, and the setting that moves it. */
export interface PortClaim {
  port: number;
  what: string;
  setting: string;
}

/**
 * The host instances' ports: PORT, then the next ones up, stepping over the ports the emulators take (the Key
 * Vault emulator's default 7072 sits right after PORT's 7071). Throws, naming both settings, when PORT itself
 * is one of theirs, or when two of theirs are the same port.
 */
export function instancePorts(first: number, count: number, reserved: PortClaim[]): number[] {
  const seen = new Map<number, PortClaim>();
  for (const claim of [{ port: first, what: 'the Functions host', setting: 'PORT' }, ...reserved]) {
    const other = seen.get(claim.port);
    if (other)
      throw new Error(
        `Port ${claim.port} is wanted by ${other.what} (${other.setting}) and by ${claim.what} (${claim.setting}): change one of them.`,
      );
    seen.set(claim.port, claim);
  }
  const ports: number[] = [];
  for (let port = first; ports.length < count; port++) {
    if (port > 65535) throw new Error(`No room for ${count} host instances above port ${first}: lower PORT.`);
    if (port === first || !seen.has(port)) ports.push(port);
  }
  return ports;
}

export function isPortFree(port: number, hostname = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, hostname, () => server.close(() => resolve(true)));
  });
}

export function canConnect(port: number, hostname = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, hostname);
  });
}

export async function waitForPort(port: number, timeoutMs: number, hostname = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port, hostname))) {
    if (Date.now() > deadline) throw new Error(`Nothing listens on ${hostname}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
