// A dependency that stops answering without going away (a frozen process: connections accepted, nothing said):
// the API answers 503 problem+json with Retry-After in bounded time (the default settings), and deep health names
// the dependency down. Storage and the Key Vault emulator sit behind TCP proxies that freeze. (A change in
// flight: frozenInFlight.test.ts.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/azurite';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { azurite } from '../support/azurite';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { TcpProxy } from '../support/tcpProxy';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

/** What the issue asks: a 503 within 15 s, whatever the freeze. */
const BOUND_MS = 15_000;

let app: TestApp;
let bc: BusinessCentralFake;
const vault = new KeyVaultEmulator();
const proxies = {
  queue: new TcpProxy(azurite().queuePort),
  table: new TcpProxy(azurite().tablePort),
  vault: undefined as unknown as TcpProxy,
};
const frozen = () => [proxies.queue, proxies.table, proxies.vault];

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', 'frozen-access-key-1');
  await bc.start();
  await vault.start();
  proxies.vault = new TcpProxy(Number(new URL(vault.url).port));
  const ports = { blob: 1, queue: await proxies.queue.start(), table: await proxies.table.start() };
  app = await startTestApp({
    env: {
      AzureWebJobsStorage: azuriteConnectionString(ports),
      KEY_VAULT_URI: `http://127.0.0.1:${await proxies.vault.start()}`,
    },
  });
});
afterEach(() => {
  for (const proxy of frozen()) proxy.thaw();
});
afterAll(async () => {
  for (const proxy of frozen()) proxy.thaw();
  await app?.stop();
  await vault.stop();
  await bc.stop();
  for (const proxy of frozen()) await proxy.cut();
});

const connectorBody = (sourceApp: string) => ({
  name: 'frozen',
  sourceApp,
  backOffice: 'bc-onprem',
  webServiceUri: `${bc.url}/BC/api/x/appointments`,
  login: 'SVC',
  password: 'frozen-access-key-1',
});

/** The response and how long it took. */
async function timed(path: string, init?: Parameters<TestApp['fetch']>[1]) {
  const started = Date.now();
  const res = await app.fetch(path, init);
  return { res, ms: Date.now() - started, body: await jsonOf(res) };
}

function expectUnavailable({ res, ms, body }: Awaited<ReturnType<typeof timed>>) {
  expect(ms).toBeLessThan(BOUND_MS);
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.headers.get('retry-after')).toBe('5');
  expect(body).toMatchObject({ status: 503, type: expect.stringMatching(/^urn:backoffice-connector:problem:/) });
}

describe('storage frozen', () => {
  it('answers 503 with Retry-After within 15 s to a list, an enqueue and a create, and deep health says which is down', async () => {
    // Warm: the clients and tables exist, so the freeze meets requests, not start-up.
    const created = await app.fetch('/api/connectors', { method: 'POST', json: connectorBody('FROZENS') });
    expect(created.status).toBe(201);
    proxies.queue.freeze();
    proxies.table.freeze();
    const [list, enqueue, create, health] = await Promise.all([
      timed('/api/connectors'),
      timed('/api/appointments', { method: 'POST', json: changeMessage('FROZENS') }),
      timed('/api/connectors', { method: 'POST', json: connectorBody('FROZENS') }),
      timed('/api/health?deep=true'),
    ]);
    expectUnavailable(list);
    expectUnavailable(enqueue);
    expect(enqueue.body.detail).toBe(
      'Queue storage is unavailable. Some of the changes may have been queued all the same: sending the same request again is safe, since a change is sent once per connector, appointment and revision.',
    );
    expectUnavailable(create);
    expect(health.ms).toBeLessThan(BOUND_MS);
    expect(health.res.status).toBe(503);
    const checks = Object.fromEntries(health.body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]));
    expect(checks).toEqual({ tables: false, queue: false, keyVault: true });
  }, 60_000);
});

describe('Key Vault frozen', () => {
  it('answers 503 with Retry-After within 15 s to a connector write and a connection test', async () => {
    // A connector whose secret it has never read. Storage was frozen a moment ago: the write is tried until it
    // goes through (how soon the service recovers is not what this test is about).
    const created = await eventually(async () => {
      const res = await app.fetch('/api/connectors', { method: 'POST', json: connectorBody('FROZENKV') });
      return res.status === 201 ? jsonOf(res) : undefined;
    }, 60_000);
    expect(created.hasPassword).toBe(true);
    proxies.vault.freeze();
    const [write, test] = await Promise.all([
      timed('/api/connectors', { method: 'POST', json: connectorBody('FROZENKV') }),
      // The test reads the secret it has never read: from Key Vault.
      timed(`/api/connectors/${created.id}/test`, { method: 'POST' }),
    ]);
    expectUnavailable(write);
    expectUnavailable(test);
  }, 120_000);
});
