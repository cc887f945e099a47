// The sync under load: 2,000 changes x 2 connectors through the local runtime (queue -> host -> sync ->
// Business Central fake at 20 ms latency), beside a naive baseline in the same run: a token per message,
// a new connection per request, one request at a time.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { CLIENT, TENANT } from '../fakes/demoTenant';
import { EntraFake } from '../fakes/entraFake';
import { changeMessage } from '../support/changes';
import { startBenchEnvironment } from './connectors';
import { printTable } from './report';

const CHANGES = Number(process.env.BENCH_SYNC_CHANGES ?? 2000);
const LATENCY_MS = 20;
const SECRET = 'bench-secret';

async function naiveBaseline(
  entra: EntraFake,
  bc: BusinessCentralFake,
  count: number,
): Promise<{ perSecond: number; tokens: number }> {
  const tokensBefore = entra.tokenRequests;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT,
      client_secret: SECRET,
      scope: 'https://api.businesscentral.dynamics.com/.default',
    });
    const token = (
      (await (await fetch(`${entra.url}/${TENANT}/oauth2/v2.0/token`, { method: 'POST', body: form })).json()) as {
        access_token: string;
      }
    ).access_token;
    const body = JSON.stringify({ id: randomUUID() });
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${bc.url}/v2.0/${TENANT}/Production/api/x/appointments`, {
        method: 'POST',
        agent: false, // a new connection every time
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          connection: 'close',
        },
      });
      req.on('response', (res) => res.resume().on('end', resolve));
      req.on('error', reject);
      req.end(body);
    });
  }
  return { perSecond: count / ((performance.now() - started) / 1000), tokens: entra.tokenRequests - tokensBefore };
}

export async function benchSync(root: string): Promise<void> {
  const entra = new EntraFake().register(TENANT, CLIENT, SECRET);
  await entra.start();
  const bc = new BusinessCentralFake().registerApp(TENANT, CLIENT);
  bc.basicUsers.set('SVC', 'bench-key');
  await bc.start();
  bc.latencyMs = LATENCY_MS;
  const envr = await startBenchEnvironment(root, { ENTRA_AUTHORITY_HOST: entra.url });
  try {
    const api = (path: string, body: unknown) =>
      fetch(`${envr.host.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const sourceApp = 'BENCHSYNC';
    await api('/api/connectors', {
      name: 'online',
      sourceApp,
      backOffice: 'bc-online',
      webServiceUri: `${bc.url}/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: TENANT,
      password: `client_id=${CLIENT}&client_secret=${SECRET}`,
    });
    await api('/api/connectors', {
      name: 'onprem',
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
      login: 'SVC',
      password: 'bench-key',
    });

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const tokensBefore = entra.tokenRequests;
    const requestsBefore = bc.requests.length;
    const started = performance.now();
    for (let i = 0; i < CHANGES; i += 100) {
      const res = await api(
        '/api/appointments',
        Array.from({ length: Math.min(100, CHANGES - i) }, () => changeMessage(sourceApp)),
      );
      if (res.status !== 202) throw new Error(`enqueue failed: ${res.status}`);
    }
    const target = CHANGES * 2;
    while (bc.insertOrder.length < target) {
      if (performance.now() - started > 600_000)
        throw new Error(`only ${bc.insertOrder.length} of ${target} delivered after 10 minutes`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const ours = {
      perSecond: target / seconds,
      tokens: entra.tokenRequests - tokensBefore,
      requestsPerChange: (bc.requests.length - requestsBefore) / target,
    };

    const naiveCount = 200;
    const naive = await naiveBaseline(entra, bc, naiveCount);
    const bound = (5 * 1000) / LATENCY_MS;
    printTable(
      `Sync: ${CHANGES} changes x 2 connectors, Business Central fake at ${LATENCY_MS} ms`,
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
    await entra.stop();
    await bc.stop();
  }
}
