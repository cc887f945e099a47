// Scale-out: three host instances over one Azurite, two principals (an OAuth app and a Basic user) against a
// Business Central fake that enforces its limits per principal (5 at once, 95 queued, a request window;
// beyond that 429) at 20 ms per request. The batched pipeline (OData $batch, the shared budget) beside one
// request per change (SYNC_BATCH_MAX_OPERATIONS=1) under the same limits, in the same run: with the window
// compressed 10x, and 1,000x (where Business Central's limits, not this machine's storage emulator, bind);
// then one change at a time on an idle queue. Storage requests are counted by a proxy in front of Azurite.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startAzuriteOnFreePorts } from '../../src/local/azurite';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { freePort } from '../../src/local/ports';
import { changeMessage } from '../support/changes';
import { percentile, printTable } from './report';
import { demoConnectors, type Fakes, startFakes } from './sync';

const INSTANCES = 3;
/** Changes sent one at a time on an idle queue (each after 3 s of quiet). */
const IDLE_SAMPLES = Number(process.env.BENCH_IDLE_SAMPLES ?? 20);
/** How long the idle latency waits first, for the leases of the instances a run stopped (15 s). */
const IDLE_WAIT_MS = Number(process.env.BENCH_IDLE_WAIT_MS ?? 16_000);
/** Quiet before each idle sample: the host polls an empty queue less and less often (up to 1 s). */
const IDLE_QUIET_MS = Number(process.env.BENCH_IDLE_QUIET_MS ?? 3000);

interface Scenario {
  title: string;
  limits: { maxConcurrent: number; maxQueued: number; requestsPerWindow: number; windowMs: number };
  changes: number;
  /** A pipeline that has not finished by then is measured on what it delivered. */
  capMs: number;
}

const scenarios: Scenario[] = [
  {
    title: 'the window compressed 10x (6,000 per 30 s)',
    limits: { maxConcurrent: 5, maxQueued: 95, requestsPerWindow: 6000, windowMs: 30_000 },
    changes: Number(process.env.BENCH_SCALE_CHANGES ?? 10_000),
    capMs: 600_000,
  },
  {
    // Here the storage emulator on this machine is no longer the tighter bound: the limits are.
    title: 'the window compressed 1,000x (60 per 30 s)',
    limits: { maxConcurrent: 5, maxQueued: 95, requestsPerWindow: 60, windowMs: 30_000 },
    changes: Math.min(2000, Number(process.env.BENCH_SCALE_CHANGES ?? 2000)),
    capMs: 120_000,
  },
];

/** What a request to a queue endpoint does: send, receive, delete, or anything else (create, properties). */
function queueKind(method: string | undefined, url: string | undefined): string {
  const path = (url ?? '').split('?')[0]!;
  if (/\/messages$/.test(path)) return method === 'POST' ? 'send' : method === 'GET' ? 'receive' : 'other';
  if (/\/messages\/[^/]+$/.test(path)) return method === 'DELETE' ? 'delete' : method === 'PUT' ? 'update' : 'other';
  return 'other';
}

/**
 * Counts the HTTP requests that reach an Azurite endpoint, and by table: a transaction ($batch) counts for the
 * table its operations name. Reads are GETs (a point read or a query page). For a queue endpoint, `byKind`
 * counts sends, receives, deletes, updates and the rest.
 */
export async function countingProxy(targetPort: number) {
  let count = 0;
  const byTable = new Map<string, { reads: number; writes: number }>();
  const byKind = new Map<string, number>();
  const server = createServer((req, res) => {
    count++;
    const kind = queueKind(req.method, req.url);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const table =
        /\/devstoreaccount1\/([a-z0-9]+)(?=[(?\s]|$)/i.exec(
          req.url?.includes('$batch') ? body.toString('latin1') : (req.url ?? ''),
        )?.[1] ?? '';
      const t = byTable.get(table) ?? { reads: 0, writes: 0 };
      if (req.method === 'GET') t.reads++;
      else t.writes++;
      byTable.set(table, t);
      const upstream = request(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    count: () => count,
    /** Requests per table so far (for a table endpoint). */
    table: (name: string) => ({ ...(byTable.get(name) ?? { reads: 0, writes: 0 }) }),
    tables: () => new Map([...byTable].map(([name, t]) => [name, t.reads + t.writes])),
    /** Requests per kind so far (for a queue endpoint). */
    kinds: () => new Map(byKind),
    server,
  };
}

/** One host instance: the built stand-in, as `LOCAL_HOST_INSTANCES=N npm start` runs each. */
async function startInstance(root: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'dist-bench', 'src', 'local', 'start.js')], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      LOCAL_HOST_ROLE: 'instance',
      LOCAL_ENTRY: 'dist-bench/src/index.js',
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-2000);
      if (out.includes('Functions host:')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`an instance exited early (${code})`)));
  });
  // BENCH_INSTANCE_LOG=<file>: the instances' log lines, for finding out where the time goes.
  const logFile = process.env.BENCH_INSTANCE_LOG;
  if (logFile) child.stdout!.on('data', (d: Buffer) => appendFileSync(logFile, d));
  else child.stdout!.resume();
  return { url: `http://127.0.0.1:${port}`, child };
}

interface RunFigures {
  seconds: number;
  delivered: number;
  perPrincipal: Array<{ principal: string; requests: number; throttled: number; peakInFlight: number }>;
  latenciesMs: number[];
  storageRequests: number;
}

async function inserted(fakes: Fakes, from: number): Promise<{ ids: string[]; at: number[] }> {
  return (await (await fetch(`${fakes.bcUrl}/_fake/inserted?from=${from}`)).json()) as { ids: string[]; at: number[] };
}

async function principalStats(fakes: Fakes) {
  const stats = (await (await fetch(`${fakes.bcUrl}/_fake/stats`)).json()) as {
    principals: Record<string, { requests: number; peakInFlight: number; throttled: number }>;
  };
  return stats.principals;
}

/** One pipeline: fresh queues and instances, two connectors, CHANGES changes posted through the API. */
async function runPipeline(
  root: string,
  scenario: Scenario,
  base: Record<string, string>,
  fakes: Fakes,
  storage: { count: () => number },
  settings: Record<string, string>,
): Promise<RunFigures> {
  const { changes: CHANGES, capMs: RUN_CAP_MS } = scenario;
  const suffix = randomBytes(3).toString('hex');
  const env = {
    ...base,
    APPOINTMENTS_QUEUE: `bench-scale-${suffix}`,
    APPOINTMENT_RETRIES_QUEUE: `bench-scale-retries-${suffix}`,
    RECOVERIES_QUEUE: `bench-scale-recoveries-${suffix}`,
    ...settings,
  };
  const instances = await Promise.all(Array.from({ length: INSTANCES }, () => startInstance(root, env)));
  try {
    const post = async (i: number, path: string, body: unknown) => {
      const res = await fetch(`${instances[i % INSTANCES]!.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res;
    };
    const sourceApp = `SCALE${suffix.toUpperCase()}`;
    // Every run uses the same app registration and user (the fake knows one of each): the figures per run are
    // differences of the fake's counters before and after.
    const connectors = demoConnectors(fakes.bcUrl, sourceApp);
    await post(0, '/api/connectors', connectors.online);
    await post(0, '/api/connectors', connectors.onprem);
    const principalsBefore = await principalStats(fakes);
    const insertedBefore = (await inserted(fakes, 0)).ids.length;
    const storageBefore = storage.count();
    const enqueuedAt = new Map<string, number>();
    const started = Date.now();
    for (let i = 0; i < CHANGES; i += 100) {
      const changes = Array.from({ length: Math.min(100, CHANGES - i) }, () => changeMessage(sourceApp));
      await post(i / 100, '/api/appointments', changes);
      const now = Date.now();
      for (const c of changes) enqueuedAt.set(c.appointment.appointmentGuid, now);
    }
    // Accepted by the fake: the body id is a name-based UUID of connector, appointment and revision, so the
    // fake's record is matched to the change through the body the app sent.
    const target = CHANGES * 2;
    let seen = { ids: [] as string[], at: [] as number[] };
    while (seen.ids.length < target && Date.now() - started < RUN_CAP_MS) {
      await new Promise((r) => setTimeout(r, 500));
      seen = await inserted(fakes, insertedBefore);
    }
    const seconds = (Date.now() - started) / 1000;
    const bodies = (await (await fetch(`${fakes.bcUrl}/_fake/bodies?from=${insertedBefore}`)).json()) as Array<{
      appointmentGuid?: string;
    }>;
    const latenciesMs = bodies.flatMap((b, i) => {
      const queued = b.appointmentGuid ? enqueuedAt.get(b.appointmentGuid) : undefined;
      return queued ? [seen.at[i]! - queued] : [];
    });
    const principalsAfter = await principalStats(fakes);
    const perPrincipal = Object.entries(principalsAfter).map(([principal, after]) => {
      const before = principalsBefore[principal] ?? { requests: 0, throttled: 0, peakInFlight: 0 };
      return {
        principal,
        requests: after.requests - before.requests,
        throttled: after.throttled - before.throttled,
        peakInFlight: after.peakInFlight,
      };
    });
    return {
      seconds,
      delivered: seen.ids.length,
      perPrincipal: perPrincipal.filter((p) => p.requests > 0),
      latenciesMs,
      storageRequests: storage.count() - storageBefore,
    };
  } finally {
    for (const i of instances) i.child.kill('SIGTERM');
    await Promise.all(
      instances.map((i) => new Promise((r) => (i.child.exitCode !== null ? r(0) : i.child.once('exit', r)))),
    );
  }
}

/** One change at a time on an idle queue: from POST to acceptance by the back office. */
async function idleLatency(root: string, base: Record<string, string>, fakes: Fakes): Promise<number[]> {
  const suffix = randomBytes(3).toString('hex');
  const instance = await startInstance(root, {
    ...base,
    APPOINTMENTS_QUEUE: `bench-idle-${suffix}`,
    APPOINTMENT_RETRIES_QUEUE: `bench-idle-retries-${suffix}`,
    RECOVERIES_QUEUE: `bench-idle-recoveries-${suffix}`,
  });
  try {
    const sourceApp = `IDLE${suffix.toUpperCase()}`;
    await fetch(`${instance.url}/api/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(demoConnectors(fakes.bcUrl, sourceApp).onprem),
    });
    // A run cut off at its cap stops its instances with requests in flight; those slots stay held until their
    // lease runs out (15 s). Idle latency is measured after that, not the wait for a killed run's leases.
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    const samples: number[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      // Let the queue go idle first: the host polls an empty queue less and less often (up to 1 s).
      await new Promise((r) => setTimeout(r, IDLE_QUIET_MS));
      const from = (await inserted(fakes, 0)).ids.length;
      const t = Date.now();
      await fetch(`${instance.url}/api/appointments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(changeMessage(sourceApp)),
      });
      for (;;) {
        const seen = await inserted(fakes, from);
        if (seen.at.length) {
          samples.push(seen.at[0]! - t);
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return samples;
  } finally {
    instance.child.kill('SIGTERM');
    await new Promise((r) => (instance.child.exitCode !== null ? r(0) : instance.child.once('exit', r)));
  }
}

export async function benchScaleOut(root: string): Promise<void> {
  // BENCH_SCALE_SCENARIOS=1 runs the first scenario only (the test of the benchmark, at small sizes).
  const count = Number(process.env.BENCH_SCALE_SCENARIOS ?? scenarios.length);
  for (const scenario of scenarios.slice(0, count)) await benchScenario(root, scenario, scenario === scenarios[0]);
  console.log(
    'Goal: 0 self-inflicted 429s; >= 10x the changes/s per principal of one request per change; idle p50 <= 1.5 s.',
  );
}

async function benchScenario(root: string, scenario: Scenario, withIdle: boolean): Promise<void> {
  const { limits } = scenario;
  const azurite = await startAzuriteOnFreePorts();
  const table = await countingProxy(azurite.ports.table);
  const queue = await countingProxy(azurite.ports.queue);
  const storage = { count: () => table.count() + queue.count() };
  const vault = new KeyVaultEmulator();
  await vault.start();
  const fakes = await startFakes({
    BC_FAKE_LIMITS: [limits.maxConcurrent, limits.maxQueued, limits.requestsPerWindow, limits.windowMs].join(','),
  });
  const base = {
    AzureWebJobsStorage: azurite.connectionString
      .replace(`:${azurite.ports.table}/`, `:${table.port}/`)
      .replace(`:${azurite.ports.queue}/`, `:${queue.port}/`),
    KEY_VAULT_URI: vault.url,
    KEY_VAULT_ALLOW_INSECURE: 'true',
    BACKOFFICE_ALLOW_LOOPBACK: 'true',
    AUTH_MODE: 'off',
    ENTRA_AUTHORITY_HOST: fakes.entraUrl,
    POISON_SWEEP_SCHEDULE: '0 */5 * * * *',
    BACKOFFICE_REQUESTS_PER_WINDOW: String(limits.requestsPerWindow),
    BACKOFFICE_WINDOW_SECONDS: String(limits.windowMs / 1000),
  };
  try {
    // BENCH_SCALE_PIPELINE=batched or single runs only that one (to look into it); both by default.
    const only = process.env.BENCH_SCALE_PIPELINE;
    const runs: Array<[string, RunFigures]> = [];
    for (const [key, name, settings] of [
      ['batched', '$batch + shared budget', {}],
      ['single', 'one request per change', { SYNC_BATCH_MAX_OPERATIONS: '1' }],
    ] as const)
      if (!only || only === key) runs.push([name, await runPipeline(root, scenario, base, fakes, storage, settings)]);
    const rows = ([name, run]: [string, RunFigures]) =>
      run.perPrincipal.map((p) => [
        name,
        p.principal.split(':')[0]!,
        (run.delivered / 2 / run.seconds).toFixed(1),
        (p.requests / (run.delivered / 2)).toFixed(3),
        String(p.throttled),
        String(p.peakInFlight),
        percentile(run.latenciesMs, 50).toFixed(0),
        percentile(run.latenciesMs, 99).toFixed(0),
        (run.storageRequests / run.delivered).toFixed(2),
      ]);
    printTable(
      `Scale-out: ${INSTANCES} instances, ${scenario.changes} changes x 2 principals, fake at 20 ms, 5 at once, ${scenario.title}`,
      ['pipeline', 'principal', 'changes/s', 'req/change', '429s', 'peak', 'p50 ms', 'p99 ms', 'storage req/change'],
      runs.flatMap(rows),
    );
    for (const [name, run] of runs)
      if (run.delivered < scenario.changes * 2)
        console.log(
          `(${name}: ${run.delivered} of ${scenario.changes * 2} delivered within the ${scenario.capMs / 1000} s cap)`,
        );
    if (withIdle && IDLE_SAMPLES > 0) {
      const idle = await idleLatency(root, base, fakes);
      console.log(
        `Idle queue, one change at a time (${IDLE_SAMPLES}): p50 ${percentile(idle, 50).toFixed(0)} ms, p99 ${percentile(idle, 99).toFixed(0)} ms.`,
      );
    }
  } finally {
    await fakes.stop();
    await vault.stop();
    table.server.close();
    queue.server.close();
    await azurite.stop();
  }
}
