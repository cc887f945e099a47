// Connector API through the local runtime (HTTP -> host -> function -> Azurite) beside the same operations
// done with a bare TableClient in the same run. p50/p99 in milliseconds.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { TableClient } from '@azure/data-tables';
import { type RunningAzurite, startAzuriteOnFreePorts } from '../../src/local/azurite';
import { type RunningHost, startHost } from '../../src/local/host';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { percentile, printTable } from './report';

const N = Number(process.env.BENCH_CONNECTOR_OPS ?? 300);

async function timeEach(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await op(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

export interface BenchEnvironment {
  azurite: RunningAzurite;
  vault: KeyVaultEmulator;
  host: RunningHost;
  stop(): Promise<void>;
}

/** Azurite + emulator + the built app behind the host stand-in, as `npm start` runs it. */
export async function startBenchEnvironment(root: string, env: Record<string, string> = {}): Promise<BenchEnvironment> {
  const azurite = await startAzuriteOnFreePorts();
  const vault = new KeyVaultEmulator();
  await vault.start();
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite.connectionString,
    KEY_VAULT_URI: vault.url,
    KEY_VAULT_ALLOW_INSECURE: 'true',
    BACKOFFICE_ALLOW_LOOPBACK: 'true',
    AUTH_MODE: 'off', // the callers' tokens are not what is measured
    APPOINTMENTS_QUEUE: 'bench-appointments',
    APPOINTMENT_RETRIES_QUEUE: 'bench-retries',
    RECOVERIES_QUEUE: 'bench-recoveries',
    POISON_SWEEP_SCHEDULE: '0 */5 * * * *',
    ...env,
  });
  const host = await startHost({ appRoot: root, entry: 'dist-bench/src/index.js', port: 0, log: () => undefined });
  return {
    azurite,
    vault,
    host,
    async stop() {
      await host.stop();
      await vault.stop();
      await azurite.stop();
    },
  };
}

export async function benchConnectors(root: string): Promise<void> {
  const envr = await startBenchEnvironment(root);
  try {
    // A lean keep-alive client: the figure should be the service's cost, not the client's (fetch adds ~0.3 ms).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const api = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const req = http.request(
          `${envr.host.url}${path}`,
          { method: init.method ?? 'GET', headers: init.headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end(init.body);
      });
    const ids: string[] = [];
    const create = await timeEach(N, async (i) => {
      const res = await api('/api/connectors', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `c${i}`,
          sourceApp: `BENCH${i % 30}`,
          backOffice: 'webhook',
          webServiceUri: 'https://hooks.example.com/in',
        }),
      });
      if (res.status !== 201) throw new Error(`create failed: ${res.status}`);
      ids.push((res.body as { id: string }).id);
    });
    const get = await timeEach(N, (i) => api(`/api/connectors/${ids[i]}`));
    const list = await timeEach(N, (i) => api(`/api/connectors?sourceApp=BENCH${i % 30}`));

    const bare = TableClient.fromConnectionString(envr.azurite.connectionString, 'barebench', {
      allowInsecureConnection: true,
    });
    await bare.createTable();
    const keys: string[] = [];
    const bareCreate = await timeEach(N, async (i) => {
      const id = randomUUID();
      keys.push(id);
      await bare.createEntity({
        partitionKey: id,
        rowKey: 'connector',
        name: `c${i}`,
        sourceApp: `BENCH${i % 30}`,
        backOffice: 'webhook',
        webServiceUri: 'https://hooks.example.com/in',
      });
      await bare.upsertEntity({ partitionKey: `app:BENCH${i % 30}`, rowKey: id, name: `c${i}` });
    });
    const bareGet = await timeEach(N, (i) => bare.getEntity(keys[i]!, 'connector'));
    const bareList = await timeEach(N, async (i) => {
      const items: unknown[] = [];
      for await (const e of bare.listEntities({ queryOptions: { filter: `PartitionKey eq 'app:BENCH${i % 30}'` } }))
        items.push(e);
    });

    const row = (name: string, ours: number[], base: number[]) => [
      name,
      percentile(ours, 50).toFixed(2),
      percentile(ours, 99).toFixed(2),
      percentile(base, 50).toFixed(2),
      percentile(base, 99).toFixed(2),
      (percentile(ours, 50) / percentile(base, 50)).toFixed(2),
    ];
    printTable(
      `Connectors: local runtime vs bare TableClient against Azurite (${N} ops each, ms)`,
      ['operation', 'ours p50', 'ours p99', 'bare p50', 'bare p99', 'p50 ratio'],
      [
        row('create (record + route)', create, bareCreate),
        row('get by id', get, bareGet),
        row('list by source app (10 each)', list, bareList),
      ],
    );
    console.log(
      'Goal: our overhead at most 1.5x the bare client on get and list. "ours" includes HTTP, the host and JSON.',
    );
  } finally {
    await envr.stop();
  }
}
