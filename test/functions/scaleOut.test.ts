// Three host instances over one Azurite and one Key Vault emulator, against a Business Central fake that
// enforces its per-principal limits (5 processed at once, 95 queued, a request window; beyond that 429):
// 1,000 changes to two connectors with two principals are each settled once, every appointment's revisions
// land in ascending order ending with the newest, the fake never answers 429 and never sees more than five
// requests of one principal at once, and an instance killed mid-run loses nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { deliveryId } from '../../src/model/pushBody';
import { tableNames } from '../../src/platform/resourceNames';
import { createBudgetStore } from '../../src/stores/budgetStore';
import { type BackOfficeFakes, startBackOfficeFakes } from '../fakes/backOfficeFakes';
import { TENANT } from '../fakes/demoTenant';
import { azurite, azuriteTable } from '../support/azurite';
import { changeMessage } from '../support/changes';
import { type Instance, startInstance } from '../support/cluster';
import { eventually } from '../support/eventually';
import { jsonOf, uniqueName } from '../support/testApp';

const SECRET = 'scale-client-secret-9b8a7c';
const KEY = 'scale-access-key-5d4e3f2a1b';
// Enough for three instances to contend for both principals' five slots, with one killed mid-run; throughput
// under load is the scale-out benchmark's business (npm run bench -- scale-out, 10,000 changes).
const APPOINTMENTS = 250;
const REVISIONS = 4;
// The fake's window, compressed from 6,000 per 5 minutes; the service is told the same limits.
const WINDOW = { requestsPerWindow: 300, windowMs: 15_000 };
// An app registration of this file's own: budget rows are keyed by principal and shared by every test file.
const CLIENT = randomUUID();
/** Tables of this file's own: other test files run beside it over the same Azurite. */
const TABLES = `t${randomBytes(4).toString('hex')}`;

let vault: KeyVaultEmulator;
let fakes: BackOfficeFakes;
let instances: Instance[] = [];

beforeAll(async () => {
  vault = new KeyVaultEmulator();
  await vault.start();
  fakes = await startBackOfficeFakes({ clientSecret: SECRET, user: 'SVC', accessKey: KEY });
  fakes.entra.register(TENANT, CLIENT, SECRET);
  fakes.bc.registerApp(TENANT, CLIENT);
  fakes.bc.limits = { maxConcurrent: 5, maxQueued: 95, ...WINDOW };
  fakes.bc.processingMs = 20;
  const env = {
    AzureWebJobsStorage: azurite().connectionString,
    KEY_VAULT_URI: vault.url,
    KEY_VAULT_ALLOW_INSECURE: 'true',
    BACKOFFICE_ALLOW_LOOPBACK: 'true',
    ENTRA_AUTHORITY_HOST: fakes.entra.url,
    AUTH_MODE: 'off',
    APPOINTMENTS_QUEUE: uniqueName('appointments'),
    APPOINTMENT_RETRIES_QUEUE: uniqueName('retries'),
    RECOVERIES_QUEUE: uniqueName('recoveries'),
    TABLE_NAME_PREFIX: TABLES,
    SYNC_RETRY_DELAYS_SECONDS: '1',
    // Small batches, so the two principals' budgets, not batching alone, decide the pace.
    SYNC_BATCH_MAX_OPERATIONS: '5',
    BACKOFFICE_REQUESTS_PER_WINDOW: String(WINDOW.requestsPerWindow),
    BACKOFFICE_WINDOW_SECONDS: String(WINDOW.windowMs / 1000),
    // Short bounds, so what the killed instance held comes back sooner: a claim lasts the longest send (a token
    // and the request, twice: 12 s with 3 s requests) and 10 s more.
    BACKOFFICE_TIMEOUT_SECONDS: '3',
    SYNC_CLAIM_LEASE_SECONDS: '22',
  };
  // A killed instance's messages come back after 10 s (the host's 10 minutes, shortened).
  const hostSettings = {
    queues: { maxPollingIntervalMs: 250, visibilityTimeoutMs: 1000, receiveVisibilityMs: 10_000 },
  };
  instances = await Promise.all([1, 2, 3].map(() => startInstance(env, hostSettings)));
}, 120_000);

afterAll(async () => {
  const logs = instances.flatMap((i) => i.logs).join('\n');
  for (const secret of [SECRET, KEY]) expect(logs).not.toContain(secret);
  await Promise.all(instances.map((i) => i.kill()));
  await fakes?.stop();
  await vault?.stop();
});

async function api(instance: Instance, path: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const res = await fetch(`${instance.url}${path}`, {
    ...rest,
    ...(json === undefined ? {} : { body: JSON.stringify(json), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.status, body: await jsonOf(res) };
}

interface Row {
  id: string;
  connectorId: string;
  appointmentGuid: string;
  revision: number;
  status: string;
  instance: string;
}

async function allRows(instance: Instance, sourceApp: string): Promise<Row[]> {
  const rows: Row[] = [];
  let token: string | undefined;
  do {
    const page = await api(
      instance,
      `/api/deliveries?sourceApp=${sourceApp}&pageSize=1000${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
    );
    rows.push(...page.body.items);
    token = page.body.continuationToken ?? undefined;
  } while (token);
  return rows;
}

describe('three instances under Business Central limits', () => {
  it('settles 1,000 changes to two principals once each, in revision order, without a 429, through a kill', async () => {
    const { bc } = fakes;
    const sourceApp = `SCALE${randomBytes(4).toString('hex').toUpperCase()}`;
    const [first, , last] = instances as [Instance, Instance, Instance];
    const online = await api(first, '/api/connectors', {
      method: 'POST',
      json: {
        name: 'online',
        sourceApp,
        backOffice: 'bc-online',
        webServiceUri: `${bc.url}/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
        login: TENANT,
        password: `client_id=${CLIENT}&client_secret=${SECRET}`,
      },
    });
    const onprem = await api(first, '/api/connectors', {
      method: 'POST',
      json: {
        name: 'onprem',
        sourceApp,
        backOffice: 'bc-onprem',
        webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
        login: 'SVC',
        password: KEY,
      },
    });
    expect([online.status, onprem.status]).toEqual([201, 201]);
    const connectorIds = [online.body.id as string, onprem.body.id as string];

    // Deep health lists the three (each writes its heartbeat as it starts), and names the one that will die.
    const deep = await eventually(async () => {
      const body = (await api(first, '/api/health?deep=true')).body;
      return body.instances?.length === 3 ? body : undefined;
    }, 60_000);
    const everyone = deep.instances as Array<{ id: string; name: string }>;
    const deadName = deep.instance as string;
    const deadId = everyone.find((i) => i.name === deadName)!.id;

    // 250 appointments, 4 revisions each, posted revision by revision in posts of 100, to different instances.
    const guids = Array.from({ length: APPOINTMENTS }, () => randomUUID());
    const changes = [];
    for (let revision = 1; revision <= REVISIONS; revision++)
      for (const guid of guids)
        changes.push(
          changeMessage(sourceApp, {
            revision,
            databaseAction: revision === 1 ? 'I' : 'U',
            appointment: { appointmentGuid: guid },
          }),
        );
    for (let i = 0; i < changes.length; i += 100) {
      const res = await api(instances[(i / 100) % 3]!, '/api/appointments', {
        method: 'POST',
        json: changes.slice(i, i + 100),
      });
      expect(res.status).toBe(202);
    }

    // Mid-run, the first instance dies without a word, holding messages, claims and budget slots.
    await eventually(() => bc.insertOrder.length >= 300, 120_000);
    await first.kill('SIGKILL');

    // Every change settles on its own row for each connector: sent (or found sent), or overtaken by a newer one.
    const rows = await eventually(
      async () => {
        const all = await allRows(last, sourceApp);
        const settled = all.every((r) => ['delivered', 'duplicate', 'stale'].includes(r.status));
        if (all.length === changes.length * 2 && settled) return all;
        // What a timeout reports: how far it got.
        const counts: Record<string, number> = {};
        for (const r of all) counts[r.status] = (counts[r.status] ?? 0) + 1;
        throw new Error(`${all.length} rows ${JSON.stringify(counts)}, ${bc.insertOrder.length} inserted`);
      },
      240_000,
      5000,
    );
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    // The instances shared the work, and each row says which one wrote it last.
    const names = new Set(everyone.map((i) => i.name));
    for (const r of rows) expect(names).toContain(r.instance);
    expect(new Set(rows.map((r) => r.instance)).size).toBeGreaterThanOrEqual(2);

    // What landed in Business Central: per connector and appointment, revisions ascending, ending with the newest.
    const byId = new Map<string, { connectorId: string; guid: string; revision: number }>();
    for (const connectorId of connectorIds)
      for (const guid of guids)
        for (let revision = 1; revision <= REVISIONS; revision++)
          byId.set(deliveryId(connectorId, guid, revision), { connectorId, guid, revision });
    const landed = new Map<string, number[]>();
    for (const id of bc.insertOrder) {
      const d = byId.get(id);
      if (!d) continue;
      const key = `${d.connectorId}/${d.guid}`;
      landed.set(key, [...(landed.get(key) ?? []), d.revision]);
    }
    expect(landed.size).toBe(APPOINTMENTS * 2);
    for (const revisions of landed.values()) {
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      expect(revisions.at(-1)).toBe(REVISIONS);
    }
    // A row that says delivered was inserted.
    for (const r of rows.filter((r) => r.status === 'delivered')) expect(bc.inserted.has(r.id)).toBe(true);

    // Within Business Central's limits all along: two principals, never a 429, never more than five at once.
    expect([...bc.principals.keys()].sort()).toEqual([`app:${TENANT}:${CLIENT}`, 'user:SVC']);
    expect(bc.throttledTotal).toBe(0);
    for (const stats of bc.principals.values()) expect(stats.peakInFlight).toBeLessThanOrEqual(5);

    // The dead instance's budget lease runs out (15 s after its last renewal; the rest of the run may take less):
    // within a minute it holds no slots in either principal's row.
    const budgets = createBudgetStore(async () => azuriteTable(`${TABLES}${tableNames.budgets}`));
    for (const principal of [`oauth:${TENANT.toLowerCase()}:${CLIENT}`, `user:${new URL(bc.url).host}:svc`]) {
      const held = async () => (await budgets.read(principal)).state.holders.filter((h) => h.id === deadId);
      await eventually(async () => (await held()).every((h) => h.until <= Date.now()), 60_000, 1000);
    }
  }, 420_000);
});
