// POST /api/connectors/{id}/test through the host, with the Entra and Business Central fakes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackOfficeFakes, startBackOfficeFakes } from '../fakes/backOfficeFakes';
import type { BusinessCentralFake } from '../fakes/businessCentralFake';
import { CLIENT, TENANT } from '../fakes/demoTenant';
import type { EntraFake } from '../fakes/entraFake';
import { HttpFake } from '../fakes/httpFake';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const SECRET = 'e2e-client-secret-value-3c2b1a';
const KEY = 'e2e-access-key-0123456789abcdef';

let app: TestApp;
let entra: EntraFake;
let bc: BusinessCentralFake;
let fakes: BackOfficeFakes;
const bodies: string[] = [];

beforeAll(async () => {
  fakes = await startBackOfficeFakes({ clientSecret: SECRET, user: 'SVC', accessKey: KEY });
  ({ entra, bc } = fakes);
  app = await startTestApp({ env: { ENTRA_AUTHORITY_HOST: entra.url } });
});
afterAll(async () => {
  for (const text of [...bodies, app.logs.join('\n')])
    for (const s of [SECRET, KEY, 'wrong-secret-value']) expect(text).not.toContain(s);
  await app?.stop();
  await fakes.stop();
});

async function testConnector(connector: Record<string, unknown>) {
  const created = await app.fetch('/api/connectors', {
    method: 'POST',
    json: { name: 'c', sourceApp: 'TESTCONN', ...connector },
  });
  expect(created.status).toBe(201);
  const { id } = await jsonOf(created);
  const res = await app.fetch(`/api/connectors/${id}/test`, { method: 'POST' });
  const text = await res.text();
  bodies.push(text);
  expect(res.status).toBe(200);
  return JSON.parse(text);
}

const onlineUri = () =>
  `${bc.url}/v2.0/${TENANT}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`;

describe('POST /api/connectors/{id}/test', () => {
  it('passes for a good bc-online connector (token + GET $top=1), and times what it did', async () => {
    bc.latencyMs = 250; // the back office takes a quarter of a second to answer
    const d = await testConnector({
      backOffice: 'bc-online',
      webServiceUri: onlineUri(),
      login: TENANT,
      password: `client_id=${CLIENT}&client_secret=${SECRET}`,
    });
    bc.latencyMs = 0;
    expect(d).toMatchObject({ ok: true, stage: 'request', status: 200, code: 'ok' });
    expect(d.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('says a bc-online client secret is wrong (AADSTS7000215)', async () => {
    const d = await testConnector({
      backOffice: 'bc-online',
      webServiceUri: onlineUri(),
      login: TENANT,
      password: `client_id=${CLIENT}&client_secret=wrong-secret-value`,
    });
    expect(d).toMatchObject({ ok: false, stage: 'token', code: 'auth.invalid-client-secret' });
    expect(d.message).toContain('AADSTS7000215');
  });

  it('passes bc-onprem Basic and says a wrong access key is unauthorized', async () => {
    const uri = `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`;
    expect(
      await testConnector({ backOffice: 'bc-onprem', webServiceUri: uri, login: 'SVC', password: KEY }),
    ).toMatchObject({ ok: true });
    expect(
      await testConnector({ backOffice: 'bc-onprem', webServiceUri: uri, login: 'SVC', password: 'nope-nope' }),
    ).toMatchObject({
      ok: false,
      stage: 'request',
      status: 401,
      code: 'auth.rejected',
    });
  });

  it('passes a NAV SOAP connector (WSDL) and reports an unknown service', async () => {
    expect(
      await testConnector({
        backOffice: 'nav',
        webServiceUri: `${bc.url}/NAV/WS/CRONUS/Page/Appointment`,
        login: 'SVC',
        password: KEY,
      }),
    ).toMatchObject({ ok: true });
    expect(
      await testConnector({
        backOffice: 'nav',
        webServiceUri: `${bc.url}/NAV/WS/CRONUS/Page/Missing`,
        login: 'SVC',
        password: KEY,
      }),
    ).toMatchObject({ ok: false, code: 'soap.fault' });
  });

  it('proves a webhook is reachable without sending it a request, and says when a host is unreachable', async () => {
    const listening = new HttpFake(() => ({ status: 204 }));
    await listening.start();
    const hook = await testConnector({
      backOffice: 'webhook',
      webServiceUri: `${listening.url}/in`,
      password: 'whsec_c2VjcmV0',
    });
    expect(hook).toMatchObject({
      ok: true,
      stage: 'request',
      code: 'connected',
      message:
        'connected (TCP only: plain http, no TLS); no request was sent, so whether the endpoint accepts a delivery (its signature check, its answer) was not tested',
      help: "post a change and read its delivery row: the endpoint's answer to a signed delivery is what proves it",
    });
    expect(listening.requests).toHaveLength(0); // connected, sent nothing
    await listening.stop();
    const refused = await testConnector({
      backOffice: 'webhook',
      webServiceUri: 'http://127.0.0.1:9/in',
      password: 'whsec_c2VjcmV0',
    });
    expect(refused).toMatchObject({ ok: false, stage: 'request', code: 'net.connection-failed' });
    const down = await testConnector({
      backOffice: 'bc-onprem',
      webServiceUri: 'http://127.0.0.1:9/BC/api/x',
      login: 'SVC',
      password: KEY,
    });
    expect(down).toMatchObject({ ok: false, stage: 'request', code: 'net.connection-failed' });
  });

  it('answers 404 for an unknown connector', async () => {
    expect(
      (await app.fetch('/api/connectors/6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11/test', { method: 'POST' })).status,
    ).toBe(404);
  });
});
