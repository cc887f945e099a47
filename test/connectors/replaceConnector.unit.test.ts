// Replacing a connector, in process on the in-memory table and Key Vault: what the record, its routes and its
// secret look like after each kind of replace, and what a failure at the commit leaves behind (nothing).
import { describe, expect, it } from 'vitest';
import { localActor } from '../../src/model/audit';
import { type ConnectorInput, connectorInputSchema } from '../../src/model/connector';
import { createUnitApp } from '../support/unitApp';

const call = { actor: localActor, correlationId: 'unit' };
const input = (overrides: Record<string, unknown> = {}): ConnectorInput =>
  connectorInputSchema.parse({
    name: 'unit',
    sourceApp: 'BCCRONUSUS',
    backOffice: 'bc-onprem',
    webServiceUri: 'https://bc.example.com/BC/api/x/v1.0/companies(1)/appointments',
    login: 'SVC',
    ...overrides,
  });

async function setUp() {
  const app = createUnitApp();
  const c = await app.connector();
  const routed = async (sourceApp: string) => (await app.services.sync.deps.connectorsOf(sourceApp)).map((x) => x.id);
  const stored = async () => (await app.services.sync.deps.connectorById(c.id))!;
  return {
    app,
    c,
    routed,
    stored,
    replace: (body: ConnectorInput, ifMatch?: string) =>
      app.services.connectors.replace(c.id, body, ifMatch, call, app.log),
  };
}

describe('replaceConnector', () => {
  it('keeps the password when the body leaves it out: the same secret version', async () => {
    const { c, replace, stored } = await setUp();
    const result = await replace(input({ name: 'renamed' }));
    expect(result.value).toMatchObject({ name: 'renamed', hasPassword: true });
    expect(await stored()).toMatchObject({
      secretName: c.secretName,
      secretVersion: c.secretVersion,
      revision: c.revision + 1,
    });
  });

  it('writes a new password as a new secret version, and the record points at it', async () => {
    const { app, c, replace, stored } = await setUp();
    await replace(input({ password: 'new-access-key-2' }));
    const after = await stored();
    expect(after.secretVersion).not.toBe(c.secretVersion);
    expect(await app.secrets.get({ name: after.secretName!, version: after.secretVersion! })).toBe('new-access-key-2');
  });

  it('clears the password with null: the record says none, and the secret is deleted', async () => {
    const { app, c, replace, stored } = await setUp();
    await replace(
      input({ backOffice: 'webhook', webServiceUri: 'https://hooks.example.com/x', login: null, password: null }),
    );
    expect(await stored()).toMatchObject({
      hasPassword: false,
      secretName: null,
      secretVersion: null,
      authType: 'none',
    });
    expect(app.secrets.deleted.has(c.secretName!)).toBe(true);
  });

  it('moves the connector to another source app: routed there, no longer routed here', async () => {
    const { c, replace, routed } = await setUp();
    await replace(input({ sourceApp: 'OTHERAPP' }));
    expect(await routed('OTHERAPP')).toEqual([c.id]);
    expect(await routed('BCCRONUSUS')).toEqual([]);
  });

  it('answers 412 to a stale If-Match and changes nothing', async () => {
    const { app, c, replace, stored } = await setUp();
    const { etag } = await app.services.connectors.get(c.id);
    await replace(input({ name: 'first' }), etag);
    await expect(replace(input({ name: 'second' }), etag)).rejects.toMatchObject({ status: 412 });
    expect((await stored()).name).toBe('first');
  });

  it('without If-Match, reads again and retries when someone else wrote in between (never 412)', async () => {
    const { app, replace, stored } = await setUp();
    let raced = false;
    app.tables.get('connectors').beforeRequest = (kind) => {
      if (kind === 'updateEntity' && !raced) {
        raced = true;
        throw Object.assign(new Error('412'), { statusCode: 412 });
      }
    };
    await replace(input({ name: 'after a race' }));
    expect((await stored()).name).toBe('after a race');
  });

  it('undoes everything when the record write fails: the new version disabled, the new route removed', async () => {
    const { app, c, replace, stored, routed } = await setUp();
    app.tables.get('connectors').beforeRequest = (kind) => {
      if (kind === 'updateEntity') throw Object.assign(new Error('503'), { statusCode: 503 });
    };
    await expect(replace(input({ sourceApp: 'OTHERAPP', password: 'new-access-key-3' }))).rejects.toMatchObject({
      status: 503,
    });
    app.tables.get('connectors').beforeRequest = undefined;
    expect(await stored()).toMatchObject({ sourceApp: 'BCCRONUSUS', secretVersion: c.secretVersion });
    expect(await routed('OTHERAPP')).toEqual([]);
    expect([...app.secrets.disabled]).toEqual([`${c.secretName}/v2`]);
  });

  it('asks for the password again when the authentication changes', async () => {
    const { replace } = await setUp();
    await expect(replace(input({ authType: 'ntlm', login: 'CRONUS\\svc' }))).rejects.toMatchObject({
      status: 400,
      errors: [
        {
          path: 'password',
          code: 'required',
          message: 'must be sent again when the authentication changes (basic to ntlm)',
        },
      ],
    });
  });
});
