// Storage requests per delivery: 500 changes x 2 Business Central REST connectors ($batch) through
// POST /api/appointments, the queue, the host and the sync, with every request to Azurite's queue and table
// endpoints counted by a proxy, from the first POST until the fake has all 1,000 deliveries (the host's
// receives, deletes and idle polls included). The goal is beside it, and what the previous delivery-log layout
// cost in the same scenario (README, "Benchmarks").
import { QueueClient } from '@azure/storage-queue';
import { startAzuriteOnFreePorts } from '../../src/local/azurite';
import { startHost } from '../../src/local/host';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { changeMessage } from '../support/changes';
import { printTable } from './report';
import { countingProxy } from './scaleOut';
import { demoConnectors, startFakes } from './sync';

const CHANGES = Number(process.env.BENCH_COST_CHANGES ?? 500);
const GOAL = 1.5;
const HEALTH_GOAL = 0.05;
const HEALTH_FLUSH_SECONDS = 2;

export async function benchCost(root: string): Promise<void> {
  const azurite = await startAzuriteOnFreePorts();
  const [queues, tables] = await Promise.all([countingProxy(azurite.ports.queue), countingProxy(azurite.ports.table)]);
  const vault = new KeyVaultEmulator();
  await vault.start();
  const fakes = await startFakes();
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite.connectionString
      .replace(`:${azurite.ports.table}/`, `:${tables.port}/`)
      .replace(`:${azurite.ports.queue}/`, `:${queues.port}/`),
    KEY_VAULT_URI: vault.url,
    KEY_VAULT_ALLOW_INSECURE: 'true',
    BACKOFFICE_ALLOW_LOOPBACK: 'true',
    AUTH_MODE: 'off',
    ENTRA_AUTHORITY_HOST: fakes.entraUrl,
    APPOINTMENTS_QUEUE: 'bench-cost-appointments',
    APPOINTMENT_RETRIES_QUEUE: 'bench-cost-retries',
    RECOVERIES_QUEUE: 'bench-cost-recoveries',
    POISON_SWEEP_SCHEDULE: '0 */5 * * * *',
    // Connector health flushes every 2 s here (30 s by default): more flushes in the window, so a higher cost.
    HEALTH_FLUSH_SECONDS: String(HEALTH_FLUSH_SECONDS),
  });
  const host = await startHost({ appRoot: root, entry: 'dist-bench/src/index.js', port: 0, log: () => undefined });
  try {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${host.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    };
    const connectors = demoConnectors(fakes.bcUrl, 'BENCHCOST');
    await post('/api/connectors', connectors.online);
    await post('/api/connectors', connectors.onprem);
    // A first change warms the clients, the tables and the queues: what is measured is the steady cost.
    await post('/api/appointments', changeMessage('BENCHCOST'));
    const warm = (await fakes.stats()).inserted + 2;
    while ((await fakes.stats()).inserted < warm) await new Promise((r) => setTimeout(r, 50));

    const queueBefore = queues.kinds();
    const tablesBefore = tables.tables();
    const countBefore = queues.count() + tables.count();
    const insertedBefore = (await fakes.stats()).inserted;
    const started = performance.now();
    for (let i = 0; i < CHANGES; i += 100)
      await post(
        '/api/appointments',
        Array.from({ length: Math.min(100, CHANGES - i) }, () => changeMessage('BENCHCOST')),
      );
    const deliveries = CHANGES * 2;
    while ((await fakes.stats()).inserted - insertedBefore < deliveries) {
      if (performance.now() - started > 300_000) throw new Error('not all delivered after 5 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    // Then until the host has deleted every message it handled (asked of Azurite directly, not counted).
    const queue = new QueueClient(azurite.connectionString, 'bench-cost-appointments');
    while ((await queue.getProperties()).approximateMessagesCount) await new Promise((r) => setTimeout(r, 50));
    // And one more health flush, so every count the deliveries made is written (and counted).
    await new Promise((r) => setTimeout(r, HEALTH_FLUSH_SECONDS * 1000 + 500));
    const total = queues.count() + tables.count() - countBefore;
    const per = (n: number) => (n / deliveries).toFixed(3);
    const queueKind = (k: string) => (queues.kinds().get(k) ?? 0) - (queueBefore.get(k) ?? 0);
    const rows: string[][] = [
      ['all storage requests', per(total), `<= ${GOAL}`],
      ...['send', 'receive', 'delete', 'update', 'other'].map((k) => [`  queue: ${k}`, per(queueKind(k)), '']),
      ...[...tables.tables()]
        .map(([name, n]) => [name, n - (tablesBefore.get(name) ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .map(([name, n]) => [
          `  table: ${name || '(service)'}`,
          per(n),
          name.endsWith('connectorhealth') ? `<= ${HEALTH_GOAL} (connector health)` : '',
        ]),
    ];
    printTable(
      `Storage requests per delivery: ${CHANGES} changes x 2 connectors ($batch), ${seconds.toFixed(1)} s from the first POST to the last delivery`,
      ['requests', 'per delivery', 'goal'],
      rows,
    );
  } finally {
    await host.stop();
    await fakes.stop();
    await vault.stop();
    queues.server.close();
    tables.server.close();
    await azurite.stop();
  }
}
