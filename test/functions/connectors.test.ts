// Connectors through the real entry, the host stand-in, Azurite and the Key Vault emulator.
import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableNames } from '../../src/platform/resourceNames';
import { CLIENT, TENANT } from '../fakes/demoTenant';
import { startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
const responses: string[] = [];
const secrets: string[] = [];

const secret = (label: string) => {
  const value = `${label}-${randomBytes(12).toString('hex')}`;
  secrets.push(value);
  return value;
};
const uniqueApp = () => `APP${randomBytes(5).toString('hex').toUpperCase()}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.fetch(path, { method, json: body, headers });
  const text = await res.text();
  responses.push(`${[...res.headers].join('\n')}\n${text}`);
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function bcOnline(overrides: Record<string, unknown> = {}) {
  return {
    name: 'Cronus US',
    sourceApp: uniqueApp(),
    backOffice: 'bc-online',
    webServiceUri: `https://api.businesscentral.dynamics.com/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
    login: TENANT,
    password: `client_id=${CLIENT}&client_secret=${secret('bcsecret')}`,
    ...overrides,
  };
}

const table = () =>
  TableClient.fromConnectionString(
    app.env.AzureWebJobsStorage!,
    `${app.env.TABLE_NAME_PREFIX}${tableNames.connectors}`,
    {
      allowInsecureConnection: true,
    },
  );
async function rawEntities(): Promise<string> {
  const all: unknown[] = [];
  for await (const e of table().listEntities()) all.push(e);
  return JSON.stringify(all);
}

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  // Never leak: no secret in any response, log line or table entity seen during this file.
  const haystacks = { responses: responses.join('\n'), logs: app.logs.join('\n'), table: await rawEntities() };
  for (const value of secrets) {
    for (const [where, text] of Object.entries(haystacks))
      expect(text.includes(value), `${where} leaks a secret`).toBe(false);
  }
  await app?.stop();
});

describe('create, read, list', () => {
  it('creates with 201, Location and ETag; the password goes to Key Vault only', async () => {
    const input = bcOnline({ sourceType: 'SERVICE' });
    const created = await call('POST', '/api/connectors', input);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      sourceApp: input.sourceApp,
      sourceType: 'SERVICE',
      backOffice: 'bc-online',
      apiType: 'rest',
      authType: 'oauth2-client-credentials',
      login: TENANT,
      hasPassword: true,
      secretExpiresAt: null,
      credentialStatus: 'none',
      sendAppointments: true,
      databaseActions: ['I', 'U', 'D'],
      appointmentsKnown: 0,
    });
    expect(created.body).not.toHaveProperty('password');
    expect(created.headers.get('location')).toBe(`${app.url}/api/connectors/${created.body.id}`);
    expect(created.headers.get('etag')).toBeTruthy();
    expect(app.vault.allValues()).toContain(input.password);

    const read = await call('GET', `/api/connectors/${created.body.id}`);
    expect(read.status).toBe(200);
    const { appointmentsKnown: _known, ...connector } = created.body;
    expect(read.body).toEqual(connector);
    expect(read.headers.get('etag')).toBe(created.headers.get('etag'));

    const raw = await rawEntities();
    expect(raw).toContain(`conn-${created.body.id}`); // a reference, not the value
  });

  it('lists by source app case-insensitively, filters by back office, and pages', async () => {
    const sourceApp = uniqueApp();
    const ids: string[] = [];
    for (const [i, backOffice] of (['bc-online', 'webhook', 'webhook'] as const).entries()) {
      const body =
        backOffice === 'webhook'
          ? {
              name: `hook ${i}`,
              sourceApp: i === 1 ? sourceApp : sourceApp.toLowerCase(),
              backOffice,
              webServiceUri: 'https://hooks.example.com/in',
            }
          : bcOnline({ sourceApp });
      const res = await call('POST', '/api/connectors', body);
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const all = await call('GET', `/api/connectors?sourceApp=${sourceApp.toLowerCase()}`);
    expect(all.body.items.map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
    const hooks = await call('GET', `/api/connectors?sourceApp=${sourceApp}&backOffice=webhook`);
    expect(hooks.body.items).toHaveLength(2);

    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; continuationToken: string | null } } = await call(
        'GET',
        `/api/connectors?sourceApp=${sourceApp}&pageSize=1${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((c) => c.id));
      token = page.body.continuationToken;
    } while (token);
    expect(seen.sort()).toEqual([...ids].sort());

    const badToken = await call('GET', '/api/connectors?continuationToken=bm90LWEtdG9rZW4=');
    expect(badToken.status).toBe(400);
    expect(badToken.body.errors[0].path).toBe('query.continuationToken');
  });

  it('answers 404 problem+json for an unknown id and 400 for a malformed one', async () => {
    const missing = await call('GET', '/api/connectors/6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11');
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('urn:backoffice-connector:problem:not-found');
    const malformed = await call('GET', '/api/connectors/not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].path).toBe('path.id');
  });
});

describe('replace', () => {
  it('honours If-Match: 412 when stale, 200 with a new ETag when current or absent', async () => {
    const created = await call('POST', '/api/connectors', bcOnline());
    const id = created.body.id;
    const etag = created.headers.get('etag')!;
    const { password: _p, ...withoutPassword } = bcOnline({ sourceApp: created.body.sourceApp, name: 'Renamed' });

    const ok = await call('PUT', `/api/connectors/${id}`, withoutPassword, { 'if-match': etag });
    expect(ok.status).toBe(200);
    expect(ok.body.name).toBe('Renamed');
    expect(ok.headers.get('etag')).not.toBe(etag);

    const stale = await call(
      'PUT',
      `/api/connectors/${id}`,
      { ...withoutPassword, name: 'Lost update' },
      { 'if-match': etag },
    );
    expect(stale.status).toBe(412);
    expect(stale.body.type).toBe('urn:backoffice-connector:problem:precondition-failed');
    expect((await call('GET', `/api/connectors/${id}`)).body.name).toBe('Renamed');

    const unconditional = await call('PUT', `/api/connectors/${id}`, { ...withoutPassword, name: 'Again' });
    expect(unconditional.status).toBe(200);
  });

  it('keeps the password when omitted, writes a new version when changed, clears it with null, and can set it again', async () => {
    const first = bcOnline();
    const created = await call('POST', '/api/connectors', first);
    const id = created.body.id;
    const { password: _p, ...rest } = first;
    const versions = async () => {
      const list: string[] = [];
      const client = (await import('@azure/keyvault-secrets')).SecretClient;
      const kv = new client(
        app.vault.url,
        { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 60_000 }) },
        {
          allowInsecureConnection: true,
          disableChallengeResourceVerification: true,
        },
      );
      for await (const v of kv.listPropertiesOfSecretVersions(`conn-${id}`)) list.push(v.version!);
      return list;
    };

    const kept = await call('PUT', `/api/connectors/${id}`, { ...rest, description: 'kept' });
    expect(kept.body.hasPassword).toBe(true);
    expect(await versions()).toHaveLength(1);

    const second = `client_id=${CLIENT}&client_secret=${secret('rotated')}`;
    const rotated = await call('PUT', `/api/connectors/${id}`, { ...rest, password: second });
    expect(rotated.status).toBe(200);
    expect(await versions()).toHaveLength(2);
    expect(app.vault.allValues()).toContain(second);

    const cleared = await call('PUT', `/api/connectors/${id}`, { ...rest, login: null, password: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ hasPassword: false, authType: 'managed-identity', login: null });
    expect(await versions()).toEqual([]); // soft-deleted

    const third = `client_id=${CLIENT}&client_secret=${secret('again')}`;
    const again = await call('PUT', `/api/connectors/${id}`, { ...rest, password: third });
    expect(again.status).toBe(200);
    expect(again.body.hasPassword).toBe(true);
    expect(app.vault.allValues()).toContain(third);
  });

  it('asks for the password again when the authentication changes', async () => {
    const created = await call('POST', '/api/connectors', {
      name: 'onprem',
      sourceApp: uniqueApp(),
      backOffice: 'bc-onprem',
      webServiceUri: 'https://bc.contoso.com:7048/BC/api/x',
      login: 'svc',
      password: secret('basic'),
    });
    const res = await call('PUT', `/api/connectors/${created.body.id}`, {
      name: 'onprem',
      sourceApp: created.body.sourceApp,
      backOffice: 'webhook',
      webServiceUri: 'https://hooks.example.com/in',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'password', code: 'required' })]);
  });

  it('moves the routing copy when the source app changes', async () => {
    const created = await call('POST', '/api/connectors', bcOnline());
    const { password: _p, ...rest } = bcOnline();
    const moved = await call('PUT', `/api/connectors/${created.body.id}`, { ...rest });
    expect(moved.status).toBe(200);
    expect((await call('GET', `/api/connectors?sourceApp=${created.body.sourceApp}`)).body.items).toEqual([]);
    expect(
      (await call('GET', `/api/connectors?sourceApp=${rest.sourceApp}`)).body.items.map((c: { id: string }) => c.id),
    ).toEqual([created.body.id]);
  });
});

describe('delete', () => {
  it('honours If-Match, deletes connector and secret, and answers 404 afterwards', async () => {
    const input = bcOnline();
    const created = await call('POST', '/api/connectors', input);
    const id = created.body.id;
    const stale = await call('DELETE', `/api/connectors/${id}`, undefined, {
      'if-match': 'W/"datetime\'2000-01-01T00%3A00%3A00Z\'"',
    });
    expect(stale.status).toBe(412);
    const deleted = await call('DELETE', `/api/connectors/${id}`, undefined, {
      'if-match': created.headers.get('etag')!,
    });
    expect(deleted.status).toBe(204);
    expect((await call('GET', `/api/connectors/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/api/connectors/${id}`)).status).toBe(404);
    expect((await call('GET', `/api/connectors?sourceApp=${input.sourceApp}`)).body.items).toEqual([]);
    expect(app.vault.requests.some((r) => r.method === 'DELETE' && r.path === `/secrets/conn-${id}`)).toBe(true);
  });
});

describe('Key Vault failures leave nothing half-made', () => {
  it('a failed secret write on create leaves no connector', async () => {
    const input = bcOnline();
    app.vault.injectFault({ method: 'PUT', path: /^\/secrets\/conn-/, status: 503, times: 10 });
    const res = await call('POST', '/api/connectors', input);
    expect(res.status).toBe(503);
    expect(res.body.type).toBe('urn:backoffice-connector:problem:key-vault-unavailable');
    expect((await call('GET', `/api/connectors?sourceApp=${input.sourceApp}`)).body.items).toEqual([]);
    expect(await rawEntities()).not.toContain(input.sourceApp);
    app.vault.clearFaults();
    // The next attempt works.
    expect((await call('POST', '/api/connectors', input)).status).toBe(201);
  });

  it('a failed secret delete keeps the connector whole and routable', async () => {
    const input = bcOnline();
    const created = await call('POST', '/api/connectors', input);
    app.vault.injectFault({ method: 'DELETE', path: /^\/secrets\/conn-/, status: 500, times: 10 });
    const res = await call('DELETE', `/api/connectors/${created.body.id}`);
    app.vault.clearFaults();
    expect(res.status).toBe(503);
    expect((await call('GET', `/api/connectors/${created.body.id}`)).status).toBe(200);
    expect((await call('GET', `/api/connectors?sourceApp=${input.sourceApp}`)).body.items).toHaveLength(1);
    expect(app.vault.allValues()).toContain(input.password);
  });
});
