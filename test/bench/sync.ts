// The sync under load: 2,000 changes x 2 connectors through the local runtime (queue -> host -> sync ->
// Business Central fake at 20 ms latency), beside a naive baseline in the same run: a token per message,
// a new connection per request, one request at a time. The fakes run in a process of their own, as the
// real Entra and Business Central would, so they do not share the app's event loop.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { resolve } from 'node:path';
import { freePort } from '../../src/local/ports';
import { TENANT } from '../fakes/demoTenant';
import { demo } from '../fakes/serve';
import { changeMessage } from '../support/changes';
import { startBenchEnvironment } from './connectors';
import { printTable } from './report';

const CHANGES = Number(process.env.BENCH_SYNC_CHANGES ?? 2000);
const LATENCY_MS = 20;

export interface Fakes {
  entraUrl: string;
  bcUrl: string;
  stats(): Promise<{ inserted: number; requests: number; tokenRequests: number }>;
  stop(): Promise<void>;
}

/** `npm run fakes` in a child process, on free ports, with the benchmark's latency (and more settings). */
/** The demo tenant's two connectors against the Business Central fake: an OAuth app and a Basic user. */
export function demoConnectors(bcUrl: string, sourceApp: string) {
  return {
    online: {
      name: 'online',
      sourceApp,
      backOffice: 'bc-online',
      webServiceUri: `${bcUrl}/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: TENANT,
      password: `client_id=${demo.clientId}&client_secret=${demo.clientSecret}`,
    },
    onprem: {
      name: 'onprem',
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${bcUrl}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: demo.user,
      password: demo.accessKey,
    },
  };
}

export async function startFakes(env: Record<string, string> = {}): Promise<Fakes> {
  const child = fork(resolve(__dirname, '..', 'fakes', 'serve.js'), [], {
    env: {
      ...process.env,
      ENTRA_FAKE_PORT: String(await freePort()),
      BC_FAKE_PORT: String(await freePort()),
      BC_WINDOWS_FAKE_PORT: String(await freePort()),
      OTLP_FAKE_PORT: String(await freePort()),
      WEBHOOK_FAKE_PORT: String(await freePort()),
      BC_FAKE_LATENCY_MS: String(LATENCY_MS),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const urls = await new Promise<{ entra: string; bc: string }>((ok, fail) => {
    child.once('message', (m) => ok(m as { entra: string; bc: string }));
    child.once('exit', (code) => fail(new Error(`the fakes exited with ${code}`)));
  });
  const json = async (url: string) => (await (await fetch(url)).json()) as Record<string, number>;
  return {
    entraUrl: urls.entra,
    bcUrl: urls.bc,
    async stats() {
      const [bc, entra] = await Promise.all([json(`${urls.bc}/_fake/stats`), json(`${urls.entra}/_fake/stats`)]);
      return { inserted: bc.inserted ?? 0, requests: bc.requests ?? 0, tokenRequests: entra.tokenRequests ?? 0 };
    },
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function naiveBaseline(fakes: Fakes, count: number): Promise<{ perSecond: number; tokens: number }> {
  const tokensBefore = (await fakes.stats()).tokenRequests;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: demo.clientId,
      client_secret: demo.clientSecret,
      scope: 'https://api.businesscentral.dynamics.com/.default',
    });
    const tokenResponse = await fetch(`${fakes.entraUrl}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', body: form });
    const token = ((await tokenResponse.json()) as { access_token: string }).access_token;
    const body = JSON.stringify({ id: randomUUID() });
    await new Promise<void>((done, fail) => {
      const req = http.request(`${fakes.bcUrl}/v2.0/${TENANT}/Production/api/x/appointments`, {
        method: 'POST',
        agent: false, // a new connection every time
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          connection: 'close',
        },
      });
      req.on('response', (res) => res.resume().on('end', done));
      req.on('error', fail);
      req.end(body);
    });
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: count / seconds, tokens: (await fakes.stats()).tokenRequests - tokensBefore };
}

export async function benchSync(root: string): Promise<void> {
  const fakes = await startFakes();
  const envr = await startBenchEnvironment(root, { ENTRA_AUTHORITY_HOST: fakes.entraUrl });
  try {
    const api = (path: string, body: unknown) =>
      fetch(`${envr.host.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const sourceApp = 'BENCHSYNC';
    const connectors = demoConnectors(fakes.bcUrl, sourceApp);
    await api('/api/connectors', connectors.online);
    await api('/api/connectors', connectors.onprem);

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const before = await fakes.stats();
    const started = performance.now();
    for (let i = 0; i < CHANGES; i += 100) {
      const batch = Array.from({ length: Math.min(100, CHANGES - i) }, () => changeMessage(sourceApp));
      const res = await api('/api/appointments', batch);
      if (res.status !== 202) throw new Error(`enqueue failed: ${res.status} ${await res.text()}`);
    }
    const target = CHANGES * 2;
    let inserted = 0;
    let polls = 0;
    while (inserted < target) {
      if (performance.now() - started > 600_000)
        throw new Error(`only ${inserted} of ${target} delivered after 10 minutes`);
      await new Promise((r) => setTimeout(r, 50));
      inserted = (await fakes.stats()).inserted - before.inserted;
      polls++;
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const after = await fakes.stats();
    const ours = {
      perSecond: target / seconds,
      tokens: after.tokenRequests - before.tokenRequests,
      // The stats polls reach the fake too: leave them out.
      requestsPerChange: (after.requests - before.requests - polls - 1) / target,
    };

    const naiveCount = 200;
    const naive = await naiveBaseline(fakes, naiveCount);
    const bound = (5 * 1000) / LATENCY_MS;
    printTable(
      `Sync: ${CHANGES} changes x 2 connectors, Business Central fake at ${LATENCY_MS} ms (fakes in their own process)`,
      ['pipeline', 'deliveries/s', 'per connector/s', '% of 250/s bound', 'token requests', 'HTTP requests/change'],
      [
        [
          'ours (queue, host, sync, log)',
          ours.perSecond.toFixed(0),
          (ours.perSecond / 2).toFixed(0),
          `${((100 * ours.perSecond) / 2 / bound).toFixed(0)}%`,
          String(ours.tokens),
          ours.requestsPerChange.toFixed(2),
        ],
        [
          `naive baseline (${naiveCount} deliveries)`,
          naive.perSecond.toFixed(0),
          naive.perSecond.toFixed(0),
          `${((100 * naive.perSecond) / bound).toFixed(0)}%`,
          String(naive.tokens),
          '1.00 + 1 token',
        ],
      ],
    );
    console.log(
      `Peak RSS of the app process: ${(peakRss / 1024 / 1024).toFixed(0)} MiB. Goal: >= 60% of the bound per connector, one token per tenant per lifetime, one request per change.`,
    );
  } finally {
    await envr.stop();
    await fakes.stop();
  }
}
