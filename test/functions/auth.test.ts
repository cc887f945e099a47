// Who may call what: Entra ID bearer tokens validated in the app (keys from OpenID discovery), roles per route
// group, 401 and 403 with nothing changed; and the audit trail of what the callers did.
import { randomBytes } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT } from '../fakes/demoTenant';
import { type ApiTokenOptions, EntraFake } from '../fakes/entraFake';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
let entra: EntraFake;

beforeAll(async () => {
  entra = new EntraFake();
  await entra.start();
  app = await startTestApp({
    env: {
      AUTH_MODE: 'entra',
      AUTH_TENANT_ID: TENANT,
      AUTH_AUDIENCE: entra.apiAudience,
      ENTRA_AUTHORITY_HOST: entra.url,
    },
  });
});
afterAll(async () => {
  await app?.stop();
  await entra.stop();
});

const token = (options: ApiTokenOptions = {}) => entra.apiToken(TENANT, options);
const as = (roles: string[], options: ApiTokenOptions = {}) => ({
  authorization: `Bearer ${token({ roles, ...options })}`,
});
const hook = () => ({
  name: 'auth',
  sourceApp: `AUTH${randomBytes(3).toString('hex').toUpperCase()}`,
  backOffice: 'webhook',
  webServiceUri: 'https://hooks.example.com/in',
  password: 'whsec_YXV0aC10ZXN0LXNlY3JldA==',
});

async function connectorCount(): Promise<number> {
  const res = await app.fetch('/api/connectors?pageSize=1000', { headers: as(['Connectors.Manage']) });
  return (await jsonOf(res)).items.length;
}

describe('bearer tokens', () => {
  it('lets health and the OpenAPI document through without a token, and nothing else', async () => {
    expect((await app.fetch('/api/health')).status).toBe(200);
    expect((await app.fetch('/api/openapi.json')).status).toBe(200);
    const res = await app.fetch('/api/connectors');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await jsonOf(res)).type).toBe('urn:backoffice-connector:problem:unauthorized');
    expect((await app.fetch('/api/health?deep=true')).status).toBe(401);
  });

  it.each([
    ['a malformed token', () => 'not.a.jwt'],
    ['a wrong signature', () => token({ roles: ['Connectors.Manage'], badSignature: true })],
    ['alg: none', () => token({ roles: ['Connectors.Manage'], alg: 'none' })],
    [
      'HS256 with the public key as the secret',
      () => token({ roles: ['Connectors.Manage'], alg: 'HS256-with-public-key' }),
    ],
    ['another issuer', () => token({ roles: ['Connectors.Manage'], iss: 'https://sts.windows.net/evil/' })],
    ['another audience', () => token({ roles: ['Connectors.Manage'], aud: 'api://something-else' })],
    ['an expired token', () => token({ roles: ['Connectors.Manage'], expiresIn: -600 })],
    ['a token not valid yet', () => token({ roles: ['Connectors.Manage'], notBeforeIn: 600 })],
  ])('refuses %s with 401, invalid_token, and changes nothing', async (_name, make) => {
    const before = await connectorCount();
    const res = await app.fetch('/api/connectors', {
      method: 'POST',
      json: hook(),
      headers: { authorization: `Bearer ${make()}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(await connectorCount()).toBe(before);
  });

  it('accepts a token signed with a key the tenant only just published: the keys are fetched again once', async () => {
    const fresh = token({ roles: ['Connectors.Manage'], unpublishedKey: true });
    expect((await app.fetch('/api/connectors', { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(401);
    entra.publishPending();
    const before = entra.keyRequests;
    // jose waits out a cooldown before looking again after a miss; the next miss after it refetches.
    await eventually(
      async () =>
        (await app.fetch('/api/connectors', { headers: { authorization: `Bearer ${fresh}` } })).status === 200,
      40_000,
      500,
    );
    expect(entra.keyRequests - before).toBe(1);
  }, 60_000);
});

describe('roles', () => {
  const groups: Array<[string, string, string, unknown?]> = [
    ['Connectors.Manage', 'GET', '/api/connectors'],
    ['Connectors.Manage', 'GET', '/api/action-uris'],
    [
      'Scheduler',
      'POST',
      '/api/action-uris/render',
      { uriType: 'task', records: [{ sourceApp: 'X', jobNo: 'J', taskNo: 'T' }] },
    ],
    ['Deliveries.Read', 'GET', '/api/deliveries'],
    ['Deliveries.Read', 'GET', '/api/health?deep=true'],
    ['Deliveries.Replay', 'POST', '/api/deliveries/6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11/replay'],
    [
      'Deliveries.Replay',
      'POST',
      '/api/connectors/6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11/recover',
      { since: '2026-11-01T00:00:00Z' },
    ],
    ['Deliveries.Replay', 'POST', '/api/connectors/6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11/resync', {}],
    ['Deliveries.Read', 'GET', '/api/recoveries/6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11'],
    ['Audit.Read', 'GET', '/api/audit'],
  ];

  it.each(groups)(
    '%s: %s %s answers 403 naming the role without it, and serves the role',
    async (role, method, path, json) => {
      const other = role === 'Audit.Read' ? 'Scheduler' : 'Audit.Read';
      const refused = await app.fetch(path, { method, json, headers: as([other]) });
      expect(refused.status).toBe(403);
      expect((await jsonOf(refused)).detail).toContain(`needs the ${role} role`);
      const served = await app.fetch(path, { method, json, headers: as([role]) });
      // Served: past the role check, an id that does not exist is a 404.
      expect(served.status, await served.clone().text()).toBe(/6f1c2b9e/.test(path) ? 404 : 200);
    },
  );

  it('refuses POST /api/appointments without the Scheduler role, and queues nothing', async () => {
    const queue = new QueueClient(app.env.AzureWebJobsStorage!, app.env.APPOINTMENTS_QUEUE!);
    await queue.createIfNotExists();
    const res = await app.fetch('/api/appointments', { method: 'POST', json: {}, headers: as(['Connectors.Manage']) });
    expect(res.status).toBe(403);
    expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(0);
  });
});

describe('the audit trail', () => {
  it('records who created, changed, tested and deleted a connector, naming fields and never a secret', async () => {
    const manager = { oid: '0a1b2c3d-0000-4000-8000-000000000001', name: 'Ada Admin', kind: 'user' as const };
    const headers = as(['Connectors.Manage'], manager);
    const input = hook();
    const created = await jsonOf(await app.fetch('/api/connectors', { method: 'POST', json: input, headers }));
    const replaced = await app.fetch(`/api/connectors/${created.id}`, {
      method: 'PUT',
      json: { ...input, name: 'renamed', password: 'whsec_bmV3LXNpZ25pbmctc2VjcmV0' },
      headers,
    });
    expect(replaced.status).toBe(200);
    await app.fetch(`/api/connectors/${created.id}/test`, { method: 'POST', headers });
    expect((await app.fetch(`/api/connectors/${created.id}`, { method: 'DELETE', headers })).status).toBe(204);

    const reader = as(['Audit.Read']);
    const res = await app.fetch(`/api/audit?resourceType=connector&resourceId=${created.id}`, { headers: reader });
    const entries = (await jsonOf(res)).items;
    expect(entries.map((e: { operation: string }) => e.operation)).toEqual([
      'connector.delete',
      'connector.test',
      'connector.replace',
      'connector.create',
    ]);
    for (const e of entries)
      expect(e).toMatchObject({
        actor: { kind: 'user', objectId: manager.oid, name: 'Ada Admin' },
        resourceType: 'connector',
        resourceId: created.id,
      });
    expect(entries.find((e: { operation: string }) => e.operation === 'connector.replace').changedFields).toEqual([
      'name',
      'password',
    ]);
    expect(entries.find((e: { operation: string }) => e.operation === 'connector.create').changedFields).toContain(
      'password',
    );
    const text = JSON.stringify(entries);
    expect(text).not.toContain('YXV0aC10ZXN0LXNlY3JldA');
    expect(text).not.toContain('bmV3LXNpZ25pbmctc2VjcmV0');

    const byActor = (await jsonOf(await app.fetch(`/api/audit?actor=${manager.oid}`, { headers: reader }))).items;
    expect(byActor.length).toBeGreaterThanOrEqual(4);
    expect(byActor.every((e: { actor: { objectId: string } }) => e.actor.objectId === manager.oid)).toBe(true);
    expect((await app.fetch('/api/audit', { headers: as(['Connectors.Manage']) })).status).toBe(403);
  });

  it('records an application caller by its app id, and a refused operation as failed with its code', async () => {
    const appId = '44444444-5555-6666-7777-888888888888';
    const missing = '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c12';
    const res = await app.fetch(`/api/deliveries/${missing}/replay`, {
      method: 'POST',
      headers: as(['Deliveries.Replay'], { appid: appId, oid: undefined }),
    });
    expect(res.status).toBe(404);
    const entries = (
      await jsonOf(
        await app.fetch(`/api/audit?resourceType=delivery&resourceId=${missing}`, { headers: as(['Audit.Read']) }),
      )
    ).items;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      operation: 'delivery.replay',
      outcome: 'failed',
      detail: 'not-found',
      actor: { kind: 'app', appId },
    });
  });
});
