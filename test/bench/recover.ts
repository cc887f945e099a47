// Recovery at scale: 10,000 changes fail for good (a wrong access key), the key is fixed, one recover sends them
// all again: the time until the recovery is done with the fake at 20 ms, and the table reads it costs per
// recovered row. Beside it, what keeping the latest revision of every appointment (for resync) costs per synced
// change, from the same run's storage requests. The app runs as `npm start` runs it, over a counting proxy.
import { randomBytes } from 'node:crypto';
import { startAzuriteOnFreePorts } from '../../src/local/azurite';
import { startHost } from '../../src/local/host';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { demo } from '../fakes/serve';
import { changeMessage } from '../support/changes';
import { printTable } from './report';
import { countingProxy } from './scaleOut';
import { demoConnectors, startFakes } from './sync';

const ROWS = Number(process.env.BENCH_RECOVER_ROWS ?? 10_000);
/** The tables a recovery reads: the delivery log, its markers, the sync state, the connector. */
const READ_TABLES = ['deliveries', 'recoveries', 'syncstate', 'connectors'];

export async function benchRecover(root: string): Promise<void> {
  const azurite = await startAzuriteOnFreePorts();
  const tables = await countingProxy(azurite.ports.table);
  const vault = new KeyVaultEmulator();
  await vault.start();
  const fakes = await startFakes();
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite.connectionString.replace(`:${azurite.ports.table}/`, `:${tables.port}/`),
    KEY_VAULT_URI: vault.url,
    KEY_VAULT_ALLOW_INSECURE: 'true',
    BACKOFFICE_ALLOW_LOOPBACK: 'true',
    AUTH_MODE: 'off',
    ENTRA_AUTHORITY_HOST: fakes.entraUrl,
    APPOINTMENTS_QUEUE: 'bench-recover-appointments',
    APPOINTMENT_RETRIES_QUEUE: 'bench-recover-retries',
    RECOVERIES_QUEUE: 'bench-recover-recoveries',
    POISON_SWEEP_SCHEDULE: '0 */5 * * * *',
  });
  const host = await startHost({ appRoot: root, entry: 'dist-bench/src/index.js', port: 0, log: () => undefined });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${host.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the benchmark reads a few known fields
    return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
  };
  const count = async (query: string) => {
    let n = 0;
    let token: string | undefined;
    do {
      const page = await api(
        'GET',
        `/api/deliveries?${query}&pageSize=1000${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      n += page.body.items.length;
      token = page.body.continuationToken ?? undefined;
    } while (token);
    return n;
  };
  const until = async (what: string, probe: () => Promise<boolean>, capMs = 900_000) => {
    const started = Date.now();
    while (!(await probe())) {
      if (Date.now() - started > capMs) throw new Error(`${what}: not within ${capMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  try {
    const sourceApp = `RECOVER${randomBytes(3).toString('hex').toUpperCase()}`;
    const connector = (password: string) => ({ ...demoConnectors(fakes.bcUrl, sourceApp).onprem, password });
    const id = (await api('POST', '/api/connectors', connector('not-the-access-key'))).body.id as string;
    const since = new Date(Date.now() - 1000).toISOString();

    const syncBefore = { latest: tables.table('latestrevisions'), all: tables.count() };
    for (let i = 0; i < ROWS; i += 100)
      await api(
        'POST',
        '/api/appointments',
        Array.from({ length: Math.min(100, ROWS - i) }, () => changeMessage(sourceApp)),
      );
    await until('the first sync', async () => (await count(`connectorId=${id}&status=failed`)) === ROWS);
    const latest = tables.table('latestrevisions');
    const syncRequests = tables.count() - syncBefore.all;
    const latestRequests = latest.reads + latest.writes - syncBefore.latest.reads - syncBefore.latest.writes;

    await api('PUT', `/api/connectors/${id}`, connector(demo.accessKey));
    const insertedBefore = (await fakes.stats()).inserted;
    const readsBefore = READ_TABLES.map((t) => tables.table(t).reads);
    const writesBefore = READ_TABLES.map((t) => tables.table(t).writes);
    const tableBefore = tables.count();
    const started = performance.now();
    const recovery = await api('POST', `/api/connectors/${id}/recover`, { since });
    const location = new URL(recovery.headers.get('location')!).pathname;
    let progress: Record<string, unknown> = {};
    await until('the recovery', async () => {
      progress = (await api('GET', location)).body;
      return progress.done === true;
    });
    const seconds = (performance.now() - started) / 1000;
    const reads = READ_TABLES.map((t, i) => tables.table(t).reads - readsBefore[i]!);
    const writes = READ_TABLES.map((t, i) => tables.table(t).writes - writesBefore[i]!);
    const delivered = (await fakes.stats()).inserted - insertedBefore;
    printTable(
      `Recover: ${ROWS} failed rows of one connector sent again (Business Central fake at 20 ms)`,
      ['figure', 'value'],
      [
        ['time to done (s)', seconds.toFixed(1)],
        ['rows recovered per second', (ROWS / seconds).toFixed(0)],
        ['delivered by the recovery', `${progress.delivered} (fake inserted ${delivered})`],
        ['table reads per recovered row', (reads.reduce((a, b) => a + b, 0) / ROWS).toFixed(2)],
        [
          '  of which delivery log / markers / sync state / connectors',
          reads.map((r) => (r / ROWS).toFixed(2)).join(' / '),
        ],
        ['table writes per recovered row', (writes.reduce((a, b) => a + b, 0) / ROWS).toFixed(2)],
        [
          '  of which delivery log / markers / sync state / connectors',
          writes.map((w) => (w / ROWS).toFixed(2)).join(' / '),
        ],
        ['table requests per recovered row (all; goal <= 4)', ((tables.count() - tableBefore) / ROWS).toFixed(2)],
      ],
    );
    printTable(
      'Keeping the latest revision (for resync), per synced change',
      ['figure', 'value'],
      [
        ['table requests per change, all', (syncRequests / ROWS).toFixed(2)],
        ['of which the latest-revision table', (latestRequests / ROWS).toFixed(2)],
        ['share', `${((100 * latestRequests) / syncRequests).toFixed(0)} %`],
      ],
    );
  } finally {
    await host.stop();
    await fakes.stop();
    await vault.stop();
    tables.server.close();
    await azurite.stop();
  }
}
