// Bad input to the connector API: every case is a 4xx problem+json naming the failing path; a fuzz run of
// mutated bodies never gets a 5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../fakes/seededRandom';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

const SECRET = 'client_secret_value_that_must_never_echo';
const valid = {
  name: 'Hook',
  sourceApp: 'BADINPUT',
  backOffice: 'webhook',
  webServiceUri: 'https://hooks.example.com/in',
};

const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  app.fetch('/api/connectors', {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers,
  });

describe('field rules', () => {
  const long = (n: number) => 'x'.repeat(n);
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['empty name', { name: '' }, 'name'],
    ['long name', { name: long(101) }, 'name'],
    ['long description', { description: long(1001) }, 'description'],
    ['empty sourceApp', { sourceApp: '' }, 'sourceApp'],
    ['31-char sourceApp', { sourceApp: long(31) }, 'sourceApp'],
    ['sourceApp with a control character', { sourceApp: 'A\tB' }, 'sourceApp'],
    ['sourceApp with edge spaces', { sourceApp: ' ABC' }, 'sourceApp'],
    ['11-char sourceType', { sourceType: long(11) }, 'sourceType'],
    ['unknown backOffice', { backOffice: 'sap' }, 'backOffice'],
    ['unknown apiType', { apiType: 'graphql' }, 'apiType'],
    ['webhook over soap', { apiType: 'soap' }, 'apiType'],
    ['sendAppointments as text', { sendAppointments: 'yes' }, 'sendAppointments'],
    ['no database actions', { databaseActions: [] }, 'databaseActions'],
    ['unknown database action', { databaseActions: ['X'] }, 'databaseActions[0]'],
    ['repeated database action', { databaseActions: ['I', 'I'] }, 'databaseActions'],
    ['database actions as text', { databaseActions: 'I' }, 'databaseActions'],
    ['empty URI', { webServiceUri: '' }, 'webServiceUri'],
    ['long URI', { webServiceUri: `https://hooks.example.com/${long(2050)}` }, 'webServiceUri'],
    ['relative URI', { webServiceUri: '/in' }, 'webServiceUri'],
    ['http URI', { webServiceUri: 'http://hooks.example.com/in' }, 'webServiceUri'],
    ['private URI', { webServiceUri: 'https://10.0.0.1/in' }, 'webServiceUri'],
    ['metadata URI', { webServiceUri: 'http://169.254.169.254/latest/meta-data' }, 'webServiceUri'],
    ['unknown authType', { authType: 'kerberos' }, 'authType'],
    ['long login', { login: long(257), password: 'p' }, 'login'],
    ['long password', { password: long(8193) }, 'password'],
    ['name as number', { name: 5 }, 'name'],
    ['unknown property', { color: 'blue' }, 'color'],
    [
      'OAuth password without the convention',
      {
        backOffice: 'bc-online',
        webServiceUri: 'https://api.businesscentral.dynamics.com/v2.0/x',
        login: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        password: SECRET,
      },
      'password',
    ],
    [
      'bc-onprem with login only',
      { backOffice: 'bc-onprem', webServiceUri: 'https://bc.contoso.com/x', login: 'svc' },
      'password',
    ],
    [
      'bc-online outside Business Central',
      { backOffice: 'bc-online', webServiceUri: 'https://bc.contoso.com/x' },
      'webServiceUri',
    ],
  ];

  it.each(cases)('%s', async (_name, change, path) => {
    const res = await post({ ...valid, ...change });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = await jsonOf(res);
    expect(problem.type).toBe('urn:backoffice-connector:problem:validation-failed');
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(JSON.stringify(problem)).not.toContain(SECRET);
  });

  it.each([
    ['null', null],
    ['an array', [valid]],
    ['a string', 'connector'],
  ])('refuses %s as the body', async (_name, body) => {
    const res = await post(JSON.stringify(body));
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).type).toBe('urn:backoffice-connector:problem:validation-failed');
  });
});

describe('transport rules', () => {
  it('refuses truncated JSON with the position and without echoing the body', async () => {
    const res = await post(`{"name":"x","password":"${SECRET}`);
    expect(res.status).toBe(400);
    const problem = await jsonOf(res);
    expect(problem.type).toBe('urn:backoffice-connector:problem:malformed-json');
    expect(JSON.stringify(problem)).not.toContain(SECRET);
  });

  it('refuses an empty body', async () => {
    expect((await jsonOf(await post(''))).type).toBe('urn:backoffice-connector:problem:malformed-json');
  });

  it('refuses non-JSON content types with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      const res = await post(JSON.stringify(valid), { 'content-type': type });
      expect(res.status, type).toBe(415);
    }
    const none = await app.fetch('/api/connectors', {
      method: 'POST',
      body: new Uint8Array(Buffer.from(JSON.stringify(valid))),
    });
    expect(none.status).toBe(415);
  });

  it('accepts a charset and +json types', async () => {
    expect(
      (await post({ ...valid, sourceApp: 'CHARSET' }, { 'content-type': 'application/json; charset=utf-8' })).status,
    ).toBe(201);
  });

  it('refuses a 1 MB body with 413', async () => {
    const res = await post({ ...valid, description: 'x'.repeat(1024 * 1024) });
    expect(res.status).toBe(413);
    expect((await jsonOf(res)).type).toBe('urn:backoffice-connector:problem:payload-too-large');
  });
});

describe('fuzz', () => {
  it('never answers 5xx to a few hundred mutated bodies', async () => {
    const random = seededRandom(20261128);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    const base = {
      ...valid,
      description: 'd',
      sourceType: 'SVC',
      databaseActions: ['I', 'U'],
      login: 'u',
      password: 'p',
      apiType: 'rest',
    };
    const keys = [...Object.keys(base), 'authType', 'sendAppointments', 'extra', '__proto__', 'constructor'];
    const values = (): unknown =>
      pick<() => unknown>([
        () => null,
        () => random() * 1e12 - 5e11,
        () => random() > 0.5,
        () => 'x'.repeat(Math.floor(random() * 3000)),
        () => String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(random() * 0xffff))),
        () => [pick(['I', 'U', 'D', 'X', 1, null])],
        () => ({ nested: { deep: [1, 2, 3] } }),
        () =>
          pick([
            'bc-online',
            'bc-onprem',
            'nav',
            'webhook',
            'https://[::1]/x',
            'http://127.0.0.1:1/x',
            'https://0x7f.1/',
            '',
          ]),
        () =>
          `client_id=${pick(['', 'x', '11111111-2222-3333-4444-555555555555'])}&client_secret=${pick(['', '%', 's'])}`,
      ])();
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const body: Record<string, unknown> = { ...base, sourceApp: `FUZZ${i}` };
      for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
        const key = pick(keys);
        if (random() < 0.3) delete body[key];
        else body[key] = values();
      }
      let text = JSON.stringify(body);
      if (random() < 0.15) text = text.slice(0, Math.floor(random() * text.length));
      if (random() < 0.1) {
        const at = Math.floor(random() * text.length);
        text = text.slice(0, at) + pick(['"', '{', '}', '\\', '\u0000', ',']) + text.slice(at + 1);
      }
      const res = await post(text);
      statuses.push(res.status);
      if (res.status >= 500) throw new Error(`5xx for body #${i}: ${text.slice(0, 300)}`);
      if (res.status >= 400) expect(res.headers.get('content-type'), `#${i}`).toBe('application/problem+json');
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0); // the mutations are not all rejections
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThan(100);
  }, 120_000);
});

describe('refusals', () => {
  const auditOf = async (correlationId: string | null) => {
    const page = await jsonOf(await app.fetch('/api/audit?resourceType=connector&pageSize=1000'));
    return page.items.filter((e: { correlationId: string }) => e.correlationId === correlationId);
  };

  it('a PUT whose body names another id is refused (400 on `id`) and changes nothing', async () => {
    const { id } = await jsonOf(await post({ ...valid, sourceApp: 'IDMISMATCH' }));
    const connector = await jsonOf(await app.fetch(`/api/connectors/${id}`));
    const other = '0f0e0d0c-0b0a-4909-8807-060504030201';
    const res = await app.fetch(`/api/connectors/${connector.id}`, {
      method: 'PUT',
      json: { ...connector, id: other, name: 'Renamed' },
    });
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).errors).toEqual([
      { path: 'id', message: `must be the id in the path (${connector.id}), or left out`, code: 'id_mismatch' },
    ]);
    expect((await jsonOf(await app.fetch(`/api/connectors/${connector.id}`))).name).toBe('Hook');
    // Sent back as GET gave it (its own id), the body is taken.
    const same = await app.fetch(`/api/connectors/${connector.id}`, {
      method: 'PUT',
      json: { ...connector, name: 'Renamed' },
    });
    expect(same.status).toBe(200);
  });

  it('a write refused before its use case runs is on the audit trail, as failed with the problem code', async () => {
    const malformed = await post('{"name": ');
    expect(malformed.status).toBe(400);
    expect(await auditOf(malformed.headers.get('x-correlation-id'))).toMatchObject([
      { operation: 'connector.create', resourceId: '-', outcome: 'failed', detail: 'malformed-json' },
    ]);
    const invalid = await post({ ...valid, backOffice: 'sap' });
    expect(await auditOf(invalid.headers.get('x-correlation-id'))).toMatchObject([
      { operation: 'connector.create', outcome: 'failed', detail: 'validation-failed' },
    ]);
    // A read is not audited, refused or not.
    const badRead = await app.fetch('/api/connectors/not-a-uuid');
    expect(badRead.status).toBe(400);
    expect(await auditOf(badRead.headers.get('x-correlation-id'))).toEqual([]);
  });
});
