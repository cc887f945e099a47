// Windows authentication through the app: bc-onprem REST and NAV SOAP connectors with authType ntlm deliver to
// a server instance with the Windows credential type (the fake verifies NTLMv2); a wrong password is
// auth.rejected; the connection test says which scheme a Basic-only, Windows or Kerberos-only server wants;
// the Windows user is the principal; the password appears nowhere.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/model/pushBody';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { ntlmMessageType } from '../fakes/ntlmServer';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const PASSWORD = 'Windows-Pa55word-e8d7c6b5';
const WRONG = 'Windows-Wrong-0a1b2c3d';
const BASIC_KEY = 'basic-only-key-5f4e3d2c';
let app: TestApp;
/** A server instance with the Windows credential type: Negotiate and NTLM, no Basic. */
let windows: BusinessCentralFake;
/** A server instance with NavUserPassword: Basic only. */
let basicOnly: BusinessCentralFake;
const bodies: string[] = [];

beforeAll(async () => {
  windows = new BusinessCentralFake();
  windows.windows.addUser('CRONUS\\svc-dime', PASSWORD);
  basicOnly = new BusinessCentralFake();
  basicOnly.basicUsers.set('SVC', BASIC_KEY);
  basicOnly.authenticate = 'Basic realm="BC"';
  await windows.start();
  await basicOnly.start();
  app = await startTestApp();
});
afterAll(async () => {
  const seen = [...bodies, app.logs.join('\n'), JSON.stringify(windows.requests.map((r) => r.body))];
  for (const text of seen) for (const secret of [PASSWORD, WRONG, BASIC_KEY]) expect(text).not.toContain(secret);
  await app?.stop();
  await windows.stop();
  await basicOnly.stop();
});

const restUri = (fake: BusinessCentralFake) =>
  `${fake.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`;
const newApp = () => `NTLM${randomBytes(4).toString('hex').toUpperCase()}`;

async function create(connector: Record<string, unknown>) {
  const res = await app.fetch('/api/connectors', {
    method: 'POST',
    json: { name: 'windows', sourceApp: newApp(), ...connector },
  });
  const body = await jsonOf(res);
  bodies.push(JSON.stringify(body));
  return { status: res.status, body };
}

async function connectionTest(connector: Record<string, unknown>) {
  const created = await create(connector);
  expect(created.status).toBe(201);
  const res = await app.fetch(`/api/connectors/${created.body.id}/test`, { method: 'POST' });
  const text = await res.text();
  bodies.push(text);
  expect(res.status).toBe(200);
  return JSON.parse(text);
}

/** Sends one change to a new connector and waits for its delivery row to settle. */
async function deliverOne(connector: Record<string, unknown>) {
  const created = await create(connector);
  expect(created.status).toBe(201);
  const change = changeMessage(created.body.sourceApp);
  expect((await app.fetch('/api/appointments', { method: 'POST', json: change })).status).toBe(202);
  const id = deliveryId(created.body.id, change.appointment.appointmentGuid, 1);
  const row = await eventually(
    async () => {
      const res = await app.fetch(`/api/deliveries/${id}`);
      if (res.status !== 200) throw new Error(`no row yet: ${res.status}`);
      const found = await jsonOf(res);
      if (found.status !== 'delivered' && found.status !== 'failed') throw new Error(`still ${found.status}`);
      return found;
    },
    60_000,
    200,
  );
  bodies.push(JSON.stringify(row));
  return { id, row };
}

const windowsConnector = (extra: Record<string, unknown> = {}) => ({
  backOffice: 'bc-onprem',
  webServiceUri: restUri(windows),
  authType: 'ntlm',
  login: 'CRONUS\\svc-dime',
  password: PASSWORD,
  ...extra,
});

describe('authType ntlm through the app', () => {
  it('a bc-onprem REST connector delivers: NEGOTIATE, CHALLENGE, then the insert with AUTHENTICATE', async () => {
    const { id, row } = await deliverOne(windowsConnector());
    expect(row).toMatchObject({ status: 'delivered' });
    expect(windows.inserted.has(id)).toBe(true);
    const legs = windows.requests.filter((r) => r.method === 'POST' && !r.path.endsWith('/_fake/stats'));
    const insert = legs.find((r) => r.body.includes(id))!;
    expect(ntlmMessageType(insert.headers.authorization)).toBe(3);
    const negotiate = legs.filter((r) => r.connection === insert.connection);
    expect(negotiate.map((r) => ntlmMessageType(r.headers.authorization))).toEqual([1, 3]);
    // The Windows user is the principal Business Central counts.
    expect(windows.principals.get('user:CRONUS\\svc-dime')?.requests).toBeGreaterThanOrEqual(1);
  });

  it('a NAV SOAP connector delivers with a UPN login', async () => {
    windows.windows.addUser('svc-nav@cronus.local', PASSWORD);
    const { id, row } = await deliverOne({
      backOffice: 'nav',
      webServiceUri: `${windows.url}/NAV/WS/CRONUS/Page/Appointment`,
      authType: 'ntlm',
      login: 'svc-nav@cronus.local',
      password: PASSWORD,
    });
    expect(row).toMatchObject({ status: 'delivered' });
    const insert = windows.requests.find((r) => r.path.endsWith('/Page/Appointment') && r.body.includes(id))!;
    expect(insert.headers.soapaction).toBe('"urn:microsoft-dynamics-schemas/page/appointment:Create"');
    expect(ntlmMessageType(insert.headers.authorization)).toBe(3);
  });

  it('a wrong password ends the delivery failed with auth.rejected, once', async () => {
    const { id, row } = await deliverOne(windowsConnector({ password: WRONG }));
    expect(row).toMatchObject({ status: 'failed', code: 'auth.rejected', attempts: 1 });
    expect(windows.inserted.has(id)).toBe(false);
  });

  it('the connection test passes, and says auth.rejected to a wrong password', async () => {
    expect(await connectionTest(windowsConnector())).toMatchObject({ ok: true, stage: 'request', status: 200 });
    expect(await connectionTest(windowsConnector({ password: WRONG }))).toMatchObject({
      ok: false,
      stage: 'request',
      status: 401,
      code: 'auth.rejected',
    });
  });

  it('the connection test tells a Basic connector that the server wants Windows authentication', async () => {
    const d = await connectionTest({
      backOffice: 'bc-onprem',
      webServiceUri: restUri(windows),
      login: 'svc-dime',
      password: PASSWORD,
    });
    expect(d).toMatchObject({ ok: false, status: 401, code: 'auth.scheme-mismatch' });
    expect(d.message).toBe(
      'the server asks for Windows authentication (it offers Negotiate, NTLM); set authType ntlm and login DOMAIN\\user',
    );
  });

  it('the connection test tells an ntlm connector that a Basic-only server wants Basic', async () => {
    const d = await connectionTest(windowsConnector({ webServiceUri: restUri(basicOnly) }));
    expect(d).toMatchObject({ ok: false, status: 401, code: 'auth.scheme-mismatch' });
    expect(d.message).toContain('the server asks for Basic authentication (it offers Basic)');
  });

  it('the connection test says a Kerberos-only server cannot be used, and how to fix it', async () => {
    const kerberos = new BusinessCentralFake();
    kerberos.windows.addUser('CRONUS\\svc-dime', PASSWORD);
    kerberos.authenticate = 'Negotiate';
    await kerberos.start();
    try {
      const d = await connectionTest(windowsConnector({ webServiceUri: restUri(kerberos) }));
      expect(d).toMatchObject({ ok: false, status: 401, code: 'auth.kerberos-only' });
      expect(d.message).toContain('allow NTLM on the server');
    } finally {
      await kerberos.stop();
    }
  });

  it('refuses ntlm for Business Central online and a login that is not a Windows login', async () => {
    const online = await create({
      backOffice: 'bc-online',
      webServiceUri: 'https://api.businesscentral.dynamics.com/v2.0/x/Production/api/v1.0/companies(1)/appointments',
      authType: 'ntlm',
      login: 'CRONUS\\svc-dime',
      password: PASSWORD,
    });
    expect(online.status).toBe(400);
    expect(online.body.errors).toContainEqual(expect.objectContaining({ path: 'authType' }));
    const badLogin = await create(windowsConnector({ login: 'CRONUS\\svc\\dime' }));
    expect(badLogin.status).toBe(400);
    expect(badLogin.body.errors).toContainEqual(expect.objectContaining({ path: 'login', code: 'windows-login' }));
    const noPassword = await create(windowsConnector({ password: '' }));
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.errors).toContainEqual(expect.objectContaining({ path: 'password' }));
  });
});
