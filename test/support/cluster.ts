// Several host instances as Azure runs them: separate processes over one Azurite and one Key Vault emulator,
// each polling the queues and running timers. They run the TypeScript entry through tsx, the way
// `LOCAL_HOST_INSTANCES=N npm start` runs the built one.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/local/ports';
import { repoRoot } from './testApp';

export interface Instance {
  url: string;
  process: ChildProcess;
  logs: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startInstance(
  env: Record<string, string>,
  hostSettings: Record<string, unknown> = {},
): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'local', 'start.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env,
      LOCAL_HOST_ROLE: 'instance',
      LOCAL_ENTRY: 'src/index.ts',
      LOCAL_HOST_SETTINGS: JSON.stringify(hostSettings),
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line) logs.push(line);
      if (logs.some((l) => l.includes('Functions host:'))) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`instance exited early (${code}): ${logs.slice(-5).join('\n')}`)));
  });
  await ready;
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    logs,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
