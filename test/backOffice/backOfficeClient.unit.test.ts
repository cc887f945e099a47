// The back-office adapters against the Entra and Business Central fakes, through the real MSAL and HTTP code.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBackOfficeClient } from '../../src/backOffice/backOfficeClient';
import { createOutboundHttp } from '../../src/backOffice/outboundHttp';
import type { BackOfficeTarget as ConnectorTarget } from '../../src/backOffice/target';
import { createTokenService } from '../../src/backOffice/tokens';
import { freePort } from '../../src/local/ports';
import type { AppointmentChange } from '../../src/model/appointmentChange';
import { buildPushBody, deliveryId } from '../../src/model/pushBody';
import { type BackOfficeFakes, startBackOfficeFakes } from '../fakes/backOfficeFakes';
import type { BusinessCentralFake } from '../fakes/businessCentralFake';
import { CLIENT, TENANT } from '../fakes/demoTenant';
import type { EntraFake } from '../fakes/entraFake';
import { HttpFake } from '../fakes/httpFake';
import { sampleChange } from '../support/changes';

const SECRET = 'bc-client-secret-value-9f8e7d';
const ACCESS_KEY = 'WebServiceAccessKey0123456789abcdefghijklmnop';

let entra: EntraFake;
let bc: BusinessCentralFake;
let fakes: BackOfficeFakes;
const outputs: string[] = [];

function client(
  options: { resolve?: Parameters<typeof createOutboundHttp>[0]['resolve']; allowLoopback?: boolean } = {},
) {
  const allowLoopback = options.allowLoopback ?? true;
  return withChanges(
    createBackOfficeClient({
      http: createOutboundHttp({
        allowLoopback,
        resolve: options.resolve,
        connectTimeoutMs: 2000,
        totalTimeoutMs: 5000,
      }),
      tokens: createTokenService({ entraAuthorityHost: entra.url }),
    }),
  );
}

/** The client as the sync uses it: the caller builds the body of a change for the target. */
function withChanges(c: ReturnType<typeof createBackOfficeClient>) {
  return {
    ...c,
    deliver: (target: ConnectorTarget, change: AppointmentChange) =>
      c.deliver(target, buildPushBody(target.id, change)),
  };
}

const online = (overrides: Partial<ConnectorTarget> = {}): ConnectorTarget => ({
  id: '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11',
  backOffice: 'bc-online',
  apiType: 'rest',
  authType: 'oauth2-client-credentials',
  webServiceUri: `${bc.url}/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
  login: TENANT,
  secret: `client_id=${CLIENT}&client_secret=${SECRET}`,
  ...overrides,
});
const onprem = (overrides: Partial<ConnectorTarget> = {}): ConnectorTarget => ({
  id: '0a7b3c6d-1e2f-4a5b-8c9d-0e1f2a3b4c5d',
  backOffice: 'bc-onprem',
  apiType: 'rest',
  authType: 'basic',
  webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
  login: 'SVC-DIME',
  secret: ACCESS_KEY,
  ...overrides,
});
const record = <T>(value: T): T => {
  outputs.push(JSON.stringify(value));
  return value;
};

beforeAll(async () => {
  fakes = await startBackOfficeFakes({ clientSecret: SECRET, user: 'SVC-DIME', accessKey: ACCESS_KEY });
  ({ entra, bc } = fakes);
});
afterEach(() => {
  bc.faults.length = 0;
  bc.rejectBearer = 0;
});
afterAll(async () => {
  for (const text of outputs) for (const secret of [SECRET, ACCESS_KEY]) expect(text).not.toContain(secret);
  await fakes.stop();
});

describe('Business Central online (OAuth client credentials through MSAL)', () => {
  it('delivers the DESIGN.md body with a bearer token and an Idempotency-Key', async () => {
    const change = sampleChange();
    const outcome = record(await client().deliver(online(), change));
    expect(outcome).toMatchObject({ kind: 'delivered', code: 'delivered', status: 201 });
    const request = bc.requests.at(-1)!;
    const expected = buildPushBody(online().id, change);
    expect(JSON.parse(request.body)).toEqual(expected);
    expect(expected.id).toBe(deliveryId(online().id, change.appointment.appointmentGuid, change.revision));
    expect(expected.endDateTime).toBe('2026-11-30T11:00:00.000Z');
    expect(request.headers['idempotency-key']).toBe(expected.id);
    expect(request.headers.authorization).toMatch(/^Bearer ey/);
  });

  it('spends one token request on 100 deliveries', async () => {
    const c = client();
    const before = entra.tokenRequests;
    for (let i = 0; i < 100; i++) expect((await c.deliver(online(), sampleChange())).kind).toBe('delivered');
    expect(entra.tokenRequests - before).toBe(1);
  });

  it('drops the token and retries exactly once after a 401', async () => {
    const c = client();
    await c.deliver(online(), sampleChange());
    const tokensBefore = entra.tokenRequests;
    const requestsBefore = bc.requests.length;
    bc.rejectBearer = 1;
    expect((await c.deliver(online(), sampleChange())).kind).toBe('delivered');
    expect(entra.tokenRequests - tokensBefore).toBe(1);
    expect(bc.requests.length - requestsBefore).toBe(2);

    bc.rejectBearer = 5;
    const rejected = record(await c.deliver(online(), sampleChange()));
    expect(rejected).toMatchObject({
      kind: 'permanent',
      code: 'auth.rejected',
      status: 401,
      upstreamCode: 'Authentication_InvalidCredentials',
    });
    expect(entra.tokenRequests - tokensBefore).toBe(2);
  });

  it('diagnoses a wrong client secret with AADSTS7000215', async () => {
    const diagnosis = record(
      await client().test(online({ secret: `client_id=${CLIENT}&client_secret=wrong-secret-1234` })),
    );
    expect(diagnosis).toMatchObject({ ok: false, stage: 'token', code: 'auth.invalid-client-secret' });
    expect(diagnosis.message).toContain('AADSTS7000215');
    expect(diagnosis.message).not.toContain('wrong-secret-1234');
  });

  it('diagnoses an unknown tenant, an unparseable password and an app BC does not know', async () => {
    const unknownTenant = record(await client().test(online({ login: '00000000-0000-0000-0000-000000000009' })));
    expect(unknownTenant).toMatchObject({ ok: false, stage: 'token', code: 'auth.invalid-tenant' });
    const unparseable = record(await client().test(online({ secret: SECRET })));
    expect(unparseable).toMatchObject({ ok: false, stage: 'credentials', code: 'config.credentials-unparseable' });
    entra.register(TENANT, '99999999-2222-3333-4444-555555555555', SECRET);
    const notRegistered = record(
      await client().test(online({ secret: `client_id=99999999-2222-3333-4444-555555555555&client_secret=${SECRET}` })),
    );
    expect(notRegistered).toMatchObject({ ok: false, stage: 'request', code: 'auth.rejected', status: 401 });
  });

  it('passes a good connection test with a GET $top=1', async () => {
    const diagnosis = await client().test(online());
    expect(diagnosis).toMatchObject({ ok: true, stage: 'request', status: 200, code: 'ok' });
    expect(bc.requests.at(-1)!.query.get('$top')).toBe('1');
  });

  it('treats a throttled token service as transient and an empty token as an error', async () => {
    entra.failWith = { status: 503, retryAfterSeconds: 0, times: 1 };
    const throttled = await client().deliver(online(), sampleChange());
    expect(throttled).toMatchObject({ kind: 'transient', code: 'auth.token-unavailable' });
    entra.omitAccessToken = true;
    const empty = await client().deliver(online(), sampleChange());
    entra.omitAccessToken = false;
    expect(empty).toMatchObject({ kind: 'transient', code: 'auth.empty-token' });
  });

  it('never sends the bearer token to another host: a redirect is not followed', async () => {
    const elsewhere = new HttpFake(() => ({ status: 200, body: 'stolen' }));
    await elsewhere.start();
    bc.faults.push({ status: 307, body: '', contentType: 'text/plain' });
    // The fake sends no Location on injected faults; add one through a dedicated server instead.
    bc.faults.length = 0;
    const redirector = new HttpFake(() => ({ status: 307, headers: { location: `${elsewhere.url}/steal` } }));
    await redirector.start();
    const outcome = await client().deliver(
      online({ webServiceUri: `${redirector.url}/v2.0/${TENANT}/Production/api/x/appointments` }),
      sampleChange(),
    );
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'http.redirect', status: 307 });
    expect(elsewhere.requests).toHaveLength(0);
    await elsewhere.stop();
    await redirector.stop();
  });
});

describe('Business Central on-premises and NAV (Basic, SOAP)', () => {
  it('delivers with Basic (UTF-8) and diagnoses a wrong access key as unauthorized', async () => {
    expect((await client().deliver(onprem(), sampleChange())).kind).toBe('delivered');
    expect(bc.requests.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from(`SVC-DIME:${ACCESS_KEY}`).toString('base64')}`,
    );
    expect(await client().test(onprem())).toMatchObject({ ok: true, status: 200 });
    bc.unauthorizedAsXml = true;
    const wrong = record(await client().test(onprem({ secret: 'not-the-key' })));
    bc.unauthorizedAsXml = false;
    expect(wrong).toMatchObject({ ok: false, stage: 'request', code: 'auth.rejected', status: 401 });
    expect(wrong.message).toContain('The credentials provided are incorrect');
  });

  it('delivers a SOAP Create envelope to a NAV page service and reads its faults', async () => {
    const nav = onprem({
      backOffice: 'nav',
      apiType: 'soap',
      webServiceUri: `${bc.url}/NAV/WS/CRONUS/Page/Appointment`,
    });
    const change = sampleChange();
    expect((await client().deliver(nav, change)).kind).toBe('delivered');
    const request = bc.requests.at(-1)!;
    expect(request.headers.soapaction).toBe('"urn:microsoft-dynamics-schemas/page/appointment:Create"');
    expect(request.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(request.body).toContain('<Create xmlns="urn:microsoft-dynamics-schemas/page/appointment"><Appointment>');
    expect(request.body).toContain('<Job_No>SO-1001</Job_No>');
    expect(request.body).toContain('<Subject>Install &lt;boiler&gt; &amp; test</Subject>');
    expect(request.body).toContain('<Resource_No>R-02</Resource_No>');
    expect(await client().deliver(nav, change)).toMatchObject({ kind: 'duplicate' });
    expect(await client().test(nav)).toMatchObject({ ok: true, status: 200 });
    const missing = await client().test({ ...nav, webServiceUri: `${bc.url}/NAV/WS/CRONUS/Page/Nope` });
    expect(missing).toMatchObject({ ok: false, code: 'soap.fault' });
    expect(missing.message).toContain('was not found');
  });
});

describe('webhooks', () => {
  it('signs with Standard Webhooks headers; a whsec_ secret is base64', async () => {
    const secretBytes = Buffer.from('0123456789abcdef0123456789abcdef');
    const hook = new HttpFake(() => ({ status: 204 }));
    await hook.start();
    const target: ConnectorTarget = {
      id: 'c1',
      backOffice: 'webhook',
      apiType: 'rest',
      authType: 'signing-secret',
      webServiceUri: `${hook.url}/in`,
      login: null,
      secret: `whsec_${secretBytes.toString('base64')}`,
    };
    expect((await client().deliver(target, sampleChange())).kind).toBe('delivered');
    const req = hook.requests[0]!;
    const expected = createHmac('sha256', secretBytes)
      .update(`${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.${req.body}`)
      .digest('base64');
    expect(req.headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(req.headers['webhook-id']).toBe(JSON.parse(req.body).id);
    expect(Math.abs(Number(req.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(req.headers.authorization).toBeUndefined();
    const diagnosis = await client().test(target);
    expect(diagnosis).toMatchObject({ ok: true, stage: 'request' });
    expect(hook.requests).toHaveLength(1); // a test sends nothing to a webhook
    await hook.stop();
  });
});

describe('outbound HTTP results', () => {
  it.each([
    [{ status: 429, retryAfter: '7' }, 'transient', 'http.throttled', 7000],
    [{ status: 503, retryAfter: '2' }, 'transient', 'http.server-error', 2000],
    [{ status: 500 }, 'transient', 'http.server-error', undefined],
    [{ status: 504 }, 'transient', 'http.timeout', undefined],
    [{ status: 404 }, 'permanent', 'http.not-found', undefined],
    [
      { status: 400, body: '<html><head><title>Bad gateway config</title></head></html>', contentType: 'text/html' },
      'permanent',
      'http.rejected',
      undefined,
    ],
    [{ status: 500, body: '', contentType: 'text/plain' }, 'transient', 'http.server-error', undefined],
    [{ status: 502, body: '{not json', contentType: 'application/json' }, 'transient', 'http.server-error', undefined],
  ] as const)('%j is %s %s', async (fault, kind, code, retryAfterMs) => {
    bc.faults.push(fault);
    const outcome = await client().deliver(onprem(), sampleChange());
    expect(outcome).toMatchObject({ kind, code, status: fault.status });
    expect(outcome.retryAfterMs).toBe(retryAfterMs);
  });

  it('reads an HTML error page title', async () => {
    bc.faults.push({
      status: 400,
      body: '<html><head><title>Request Rejected</title></head><body>...</body></html>',
      contentType: 'text/html',
    });
    expect((await client().deliver(onprem(), sampleChange())).message).toBe('Request Rejected');
  });

  it('counts a duplicate key (400 or 409) as already delivered', async () => {
    const change = sampleChange();
    await client().deliver(onprem(), change);
    expect(await client().deliver(onprem(), change)).toMatchObject({
      kind: 'duplicate',
      status: 400,
      upstreamCode: 'Internal_EntityWithSameKeyExists',
    });
    bc.duplicateStatus = 409;
    expect(await client().deliver(onprem(), change)).toMatchObject({ kind: 'duplicate', status: 409 });
    bc.duplicateStatus = 400;
  });

  it('reports a reset connection and an unreachable host as transient network failures', async () => {
    bc.faults.push('reset');
    expect(await client().deliver(onprem(), sampleChange())).toMatchObject({
      kind: 'transient',
      code: 'net.connection-failed',
    });
    const closed = await freePort();
    const unreachable = await client().test(
      onprem({ webServiceUri: `http://127.0.0.1:${closed}/BC/api/x/appointments` }),
    );
    expect(unreachable).toMatchObject({ ok: false, stage: 'request', code: 'net.connection-failed' });
    expect(unreachable.message).toContain(`127.0.0.1:${closed}`);
  });

  it('times out a back office that never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const c = withChanges(
      createBackOfficeClient({
        http: createOutboundHttp({ allowLoopback: true, totalTimeoutMs: 300 }),
        tokens: createTokenService({ entraAuthorityHost: entra.url }),
      }),
    );
    expect(await c.deliver(onprem({ webServiceUri: `http://127.0.0.1:${port}/x` }), sampleChange())).toMatchObject({
      kind: 'transient',
      code: 'net.timeout',
    });
    silent.closeAllConnections();
    silent.close();
  });
});

describe('the URI guard at send time', () => {
  const webhook = (uri: string): ConnectorTarget => ({
    id: 'g',
    backOffice: 'webhook',
    apiType: 'rest',
    authType: 'none',
    webServiceUri: uri,
    login: null,
    secret: null,
  });
  it.each([
    ['the metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['10.x', 'https://10.0.0.8/in'],
    ['192.168.x', 'https://192.168.1.1/in'],
    ['[::1] without the loopback setting', 'https://[::1]:8443/in'],
  ])('refuses %s', async (_name, uri) => {
    const outcome = await client({ allowLoopback: false }).deliver(webhook(uri), sampleChange());
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'config.address-blocked' });
  });

  it('refuses a name that resolves to a private address (DNS rebinding), and sends nothing', async () => {
    const resolve = async () => [{ address: '10.1.2.3', family: 4 }];
    const outcome = await client({ allowLoopback: false, resolve }).deliver(
      webhook('https://rebind.example.com/in'),
      sampleChange(),
    );
    expect(outcome).toMatchObject({ kind: 'permanent', code: 'config.address-blocked' });
    expect(outcome.message).toContain('rebind.example.com');
  });
});
