// `npm start` as a user meets it: the built script starts Azurite, the emulator and the host,
// answers health and OpenAPI, stops every child on SIGTERM, and says so in one line when a port is taken.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/azurite';
import { freePort, isPortFree } from '../../src/local/ports';
import { serveFakes } from '../fakes/serve';
import { eventually } from '../support/eventually';
import { runOrThrow } from '../support/run';
import { repoRoot } from '../support/testApp';

beforeAll(async () => {
  await runOrThrow(
    process.execPath,
    [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.build.json'],
    {
      cwd: repoRoot,
    },
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

/** The settings that put a run on the given ports; none: the defaults of local.settings.example.json. */
const portSettings = (p: Awaited<ReturnType<typeof ports>> | undefined): Record<string, string> =>
  p
    ? {
        PORT: String(p.http),
        AzureWebJobsStorage: azuriteConnectionString({ blob: p.blob, queue: p.queue, table: p.table }),
        KEY_VAULT_URI: `http://127.0.0.1:${p.vault}`,
      }
    : {};

/** Launches a command in the repo with a bare environment, collecting what it prints while it runs. */
function launch(command: string, args: string[], env: Record<string, string | undefined>) {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (d: Buffer) => {
      out += d.toString();
    });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The built script; without ports, on the defaults of local.settings.example.json. */
function startScript(p: Awaited<ReturnType<typeof ports>> | undefined, extra: Record<string, string> = {}) {
  return launch(process.execPath, [join(repoRoot, 'dist', 'src', 'local', 'start.js')], {
    PATH: process.env.PATH,
    ...portSettings(p),
    ...extra,
  });
}

/**
 * `npm start` itself, as a user runs it: npm, the shell it spawns, then the script. Without ports, on the
 * defaults of local.settings.example.json, as a newcomer gets them.
 */
function startWithNpm(p: Awaited<ReturnType<typeof ports>> | undefined, extra: Record<string, string> = {}) {
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli ? [process.execPath, [npmCli, 'start']] : ['npm', ['start']];
  return launch(command, args, { PATH: process.env.PATH, HOME: process.env.HOME, ...portSettings(p), ...extra });
}

describe('npm start', () => {
  it('stops Azurite, the emulator and the host when npm itself gets SIGTERM', async () => {
    const p = await ports();
    const run = startWithNpm(p);
    await eventually(() => run.output().includes('Press Ctrl-C to stop.'), 90_000);
    for (const port of Object.values(p)) expect(await isPortFree(port), `port ${port} in use`).toBe(false);
    run.child.kill('SIGTERM'); // the npm process only, as `kill -TERM <pid of npm start>` does
    await eventually(async () => {
      for (const port of Object.values(p)) if (!(await isPortFree(port))) return false;
      return true;
    }, 30_000);
  }, 150_000);

  it('LOCAL_HOST_INSTANCES=3 on the default ports: three hosts around the emulator, one banner, and Ctrl-C stops all', async () => {
    // The defaults: hosts from 7071, the Key Vault emulator on 7072, Azurite on 10000-10002.
    const defaults = [7071, 7072, 7073, 7074, 10000, 10001, 10002];
    for (const port of defaults) expect(await isPortFree(port), `port ${port} is taken: this test needs it`).toBe(true);
    const run = startWithNpm(undefined, { LOCAL_HOST_INSTANCES: '3' });
    await eventually(() => run.output().includes('Press Ctrl-C to stop.'), 120_000);
    const out = run.output();
    expect(out).toContain('Host instances:     3, on ports 7071, 7073, 7074, sharing the queues');
    expect(out).toContain('Key Vault emulator: http://127.0.0.1:7072');
    expect(out).toContain('Callers:            AUTH_MODE=off: nobody is checked (local only; refused in Azure)');
    expect(out.match(/Functions host: {5}/g)).toHaveLength(1); // one banner, not one per instance
    expect(out).toMatch(/poisonSweep: timer, \*\/30 \* \* \* \* \* \(UTC\)/);
    const health = await eventually(async () => {
      const body = (await (await fetch('http://127.0.0.1:7071/api/health?deep=true')).json()) as {
        instances?: Array<{ name: string }>;
      };
      return body.instances?.length === 3 ? body : undefined;
    }, 30_000);
    expect(health.instances!.map((i) => i.name).sort()).toEqual(['host:7071', 'host:7073', 'host:7074']);
    run.child.kill('SIGINT');
    await eventually(async () => {
      for (const port of defaults) if (!(await isPortFree(port))) return false;
      return true;
    }, 30_000);
    // The ports are free a moment before the script says so and exits (it waits for Azurite's exit).
    await run.exited;
    expect(run.output()).toMatch(/Stopped\.\s*$/);
  }, 180_000);

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
    expect(run.output()).toContain(`Host instances:     2, on ports ${p.http}, ${second}, sharing the queues`);
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

  it("the README's walkthrough, as written, gets from nothing to a change delivered to both back offices", async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const walkthrough = readme.slice(
      readme.indexOf('## Walkthrough'),
      readme.indexOf('\n## ', readme.indexOf('## Walkthrough') + 3),
    );
    expect(readme.slice(0, readme.indexOf('## Walkthrough')).split('\n').length).toBeLessThan(120);
    const blocks = [...walkthrough.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const [terminals, ...commands] = blocks;
    expect(terminals).toMatch(/^npm run fakes\b/m);
    expect(terminals).toMatch(/^npm start\b/m);
    const read = commands.pop()!;

    // Terminals 1 and 2, as the README starts them (the fakes in process, the app on its default ports).
    const defaults = [7071, 7072, 7081, 7082, 7083, 7084, 7085, 10000, 10001, 10002];
    for (const port of defaults) expect(await isPortFree(port), `port ${port} is taken: this test needs it`).toBe(true);
    let banner = '';
    const fakes = await serveFakes((text) => {
      banner += `${text}\n`;
    });
    const app = startScript(undefined);
    try {
      for (const endpoint of ['/_fake/stats', '/_fake/bodies', '/oauth2/v2.0/token'])
        expect(banner).toContain(endpoint);
      await eventually(() => app.output().includes('Press Ctrl-C to stop.'), 60_000);

      // Terminal 3: every command as written, in one shell (the connector id carries over), then the read until
      // the change has settled (a person reads again a moment later).
      // Asynchronous: the fakes answer from this process, which must not block while curl waits for them.
      const bash = async (script: string) =>
        (await runOrThrow('bash', ['-euo', 'pipefail', '-c', script], { cwd: repoRoot, timeoutMs: 60_000 })).stdout;
      const said = await bash(commands.join('\n'));
      expect(said).toContain('"ok":true');
      expect(said).toContain('"messageIds":["7d7c4a9e-0c8e-4a51-9d1f-2f6b8f0a1c11"]');
      const rows = await eventually(async () => {
        const { items } = JSON.parse(await bash(read)) as { items: Array<{ connectorName: string; status: string }> };
        return items.length === 2 && items.every((r) => r.status === 'delivered') ? items : undefined;
      }, 60_000);
      expect(rows.map((r) => r.connectorName).sort()).toEqual(['Cronus on-premises', 'Planning webhook']);
      // Each back office got it: the Business Central fake inserted it, the webhook receiver verified its signature.
      expect(fakes.bc.insertOrder).toHaveLength(1);
      expect(fakes.webhook.received.map((p) => p.verified)).toEqual([true]);
      expect(banner).toMatch(
        /webhook signature verified: appointment 3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b revision 1 \(I\)/,
      );
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
      await fakes.stop();
    }
  }, 180_000);
});
