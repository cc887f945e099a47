// Azurite from the npm package as a child process: loopback only, in memory, no telemetry.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { freePort, waitForPort } from './ports';

export const azuriteAccount = {
  name: 'devstoreaccount1',
  key: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

export const defaultAzuritePorts: AzuritePorts = { blob: 10000, queue: 10001, table: 10002 };

export interface RunningAzurite {
  ports: AzuritePorts;
  connectionString: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function azuriteConnectionString(ports: AzuritePorts, host = '127.0.0.1'): string {
  const base = `http://${host}`;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${azuriteAccount.name}`,
    `AccountKey=${azuriteAccount.key}`,
    `BlobEndpoint=${base}:${ports.blob}/${azuriteAccount.name}`,
    `QueueEndpoint=${base}:${ports.queue}/${azuriteAccount.name}`,
    `TableEndpoint=${base}:${ports.table}/${azuriteAccount.name}`,
  ].join(';');
}

export async function startAzurite(
  options: { ports?: AzuritePorts; location?: string; debugLog?: boolean } = {},
): Promise<RunningAzurite> {
  const ports = options.ports ?? defaultAzuritePorts;
  const bin = join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
  const args = [
    bin,
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(ports.blob),
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(ports.queue),
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(ports.table),
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.stdout?.resume();
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`Azurite exited early (code ${code}): ${stderr.trim()}`))),
  );
  try {
    await Promise.race([
      Promise.all([
        waitForPort(ports.blob, 20_000),
        waitForPort(ports.queue, 20_000),
        waitForPort(ports.table, 20_000),
      ]),
      exited,
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  exited.catch(() => undefined);
  // Never outlive the parent: an exit (also process.exit from a signal handler) takes Azurite along.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  return {
    ports,
    connectionString: azuriteConnectionString(ports),
    process: child,
    stop: () => stopChild(child),
  };
}

/**
 * Azurite on three ports the OS says are free. Between asking and Azurite binding, a port can be taken (an
 * outgoing connection gets it as its local port, or two asks get the same one): then it starts again on others.
 */
export async function startAzuriteOnFreePorts(
  options: { location?: string; debugLog?: boolean } = {},
): Promise<RunningAzurite> {
  for (let attempt = 1; ; attempt++) {
    const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
    if (new Set(Object.values(ports)).size < 3) continue;
    try {
      return await startAzurite({ ...options, ports });
    } catch (error) {
      if (attempt >= 5 || !/EADDRINUSE/.test(String(error))) throw error;
    }
  }
}

/** SIGTERM, then SIGKILL if the child is still there after a grace period. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
