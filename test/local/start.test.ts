// `npm start` as a user meets it: the built script starts Azurite, the emulator and the host,
// answers health and OpenAPI, stops every child on SIGTERM, and says so in one line when a port is taken.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/azurite';
import { freePort, isPortFree } from '../../src/local/ports';
import { eventually } from '../support/eventually';
import { repoRoot } from '../support/testApp';

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: repoRoot },
  );
}, 120_000);

async function ports() {
  return {
    http: await freePort(),
    vault: await freePort(),
    blob: await freePort(),
    queue: await freePort(),
    table: await freePort(),
  };
}

function startScript(
  p: Awaited<ReturnType<typeof ports>>,
  extra: Record<string, string> = {},
): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'local', 'start.js')], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      PORT: String(p.http),
      AzureWebJobsStorage: azuriteConnectionString({ blob: p.blob, queue: p.queue, table: p.table }),
      KEY_VAULT_URI: `http://127.0.0.1:${p.vault}`,
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** `npm start` itself, as a user runs it: npm, the shell it spawns, then the script. */
function startWithNpm(p: Awaited<ReturnType<typeof ports>>) {
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli ? [process.execPath, [npmCli, 'start']] : ['npm', ['start']];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(p.http),
      AzureWebJobsStorage: azuriteConnectionString({ blob: p.blob, queue: p.queue, table: p.table }),
      KEY_VAULT_URI: `http://127.0.0.1:${p.vault}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (d: Buffer) => {
      out += d.toString();
    });
  return { child, output: () => out };
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops Azurite, the emulator and the host when npm itself gets %s',
    async (signal) => {
      const p = await ports();
      const run = startWithNpm(p);
      await eventually(() => run.output().includes('Press Ctrl-C to stop.'), 90_000);
      for (const port of Object.values(p)) expect(await isPortFree(port), `port ${port} in use`).toBe(false);
      run.child.kill(signal); // the npm process only, as `kill -TERM <pid of npm start>` does
      await eventually(async () => {
        for (const port of Object.values(p)) if (!(await isPortFree(port))) return false;
        return true;
      }, 30_000);
    },
    150_000,
  );

  it('serves health and OpenAPI, and on SIGTERM stops the host, the emulator and Azurite', async () => {
    const p = await ports();
    const run = startScript(p);
    await eventually(() => run.output().includes('Press Ctrl-C to stop.'), 40_000);
    expect(run.output()).toContain(`Functions host:     http://127.0.0.1:${p.http}/api`);
    expect((await fetch(`http://127.0.0.1:${p.http}/api/health`)).status).toBe(200);
    const deep = await fetch(`http://127.0.0.1:${p.http}/api/health?deep=true`);
    expect(deep.status).toBe(200);
    const doc = (await (await fetch(`http://127.0.0.1:${p.http}/api/openapi.json`)).json()) as { openapi: string };
    expect(doc.openapi).toBe('3.1.0');

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    for (const port of Object.values(p)) expect(await isPortFree(port), `port ${port} released`).toBe(true);
  }, 60_000);

  it('with LOCAL_HOST_INSTANCES=2 runs two hosts on PORT and PORT+1 over one Azurite, and stops both', async () => {
    let p = await ports();
    while (!(await isPortFree(p.http + 1))) p = await ports(); // the second instance takes PORT+1
    const second = p.http + 1;
    const run = startScript(p, { LOCAL_HOST_INSTANCES: '2' });
    await eventually(() => run.output().includes('Press Ctrl-C to stop.'), 60_000);
    expect(run.output()).toContain(`Host instances:     2, on ports ${p.http}-${second}`);
    for (const port of [p.http, second]) expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    for (const port of [...Object.values(p), second])
      expect(await isPortFree(port), `port ${port} released`).toBe(true);
  }, 90_000);

  it('says in one line that a port is taken, without a stack trace', async () => {
    const p = await ports();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(p.http, '127.0.0.1', () => r()));
    try {
      const run = startScript(p);
      expect(await run.exited).toBe(1);
      const lines = run.output().trim().split('\n');
      expect(lines).toEqual([
        `npm start failed: Port ${p.http} is already in use (Functions host (set PORT to change it)). Stop whatever holds it and try again.`,
      ]);
      // Nothing was started before the check.
      expect(await isPortFree(p.queue)).toBe(true);
    } finally {
      blocker.close();
    }
  }, 30_000);
});
