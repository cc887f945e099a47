// Action URI definitions and rendering through the host, Azurite and the real template engine.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

const newApp = () => `URI${randomBytes(4).toString('hex').toUpperCase()}`;
const create = async (body: Record<string, unknown>) => {
  const res = await app.fetch('/api/action-uris', { method: 'POST', json: body });
  return { status: res.status, headers: res.headers, body: await jsonOf(res) };
};
const render = async (body: unknown) => {
  const res = await app.fetch('/api/action-uris/render', { method: 'POST', json: body });
  return { status: res.status, body: await jsonOf(res) };
};

describe('definitions', () => {
  it('create, read, list and replace with If-Match', async () => {
    const sourceApp = newApp();
    const created = await create({
      sourceApp,
      sourceType: 'SERVICE',
      uriType: 'appointment',
      template: "https://businesscentral.dynamics.com/?company=CRONUS&page=5900&filter='No.' IS '#JOBNO#'",
      description: 'Open service order',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${app.url}/api/action-uris/${created.body.id}`);
    expect(created.body).toMatchObject({ isDefault: false, requestType: 'GET' });
    const read = await app.fetch(`/api/action-uris/${created.body.id}`);
    expect(await jsonOf(read)).toEqual(created.body);
    const list = await jsonOf(
      await app.fetch(`/api/action-uris?sourceApp=${sourceApp.toLowerCase()}&uriType=appointment`),
    );
    expect(list.items.map((d: { id: string }) => d.id)).toEqual([created.body.id]);

    const stale = await app.fetch(`/api/action-uris/${created.body.id}`, {
      method: 'PUT',
      json: { ...created.body, id: undefined, createdAt: undefined, updatedAt: undefined },
      headers: { 'if-match': 'W/"stale"' },
    });
    expect(stale.status).toBe(412);
  });

  it.each([
    ['an unclosed expression', { template: 'https://x.example/{jobNo' }, 'invalid-template'],
    [
      'a placeholder the URI type lacks',
      { uriType: 'task', template: 'https://x.example/#START#' },
      'unknown-placeholder',
    ],
    ['an unknown variable', { template: 'https://x.example/{nope}' }, 'unknown-variable'],
    ['javascript:', { template: 'javascript:alert(#JOBNO#)' }, 'scheme-not-allowed'],
    ['data:', { template: 'data:text/html,<b>#JOBNO#</b>' }, 'scheme-not-allowed'],
    ['ftp:', { template: 'ftp://x.example/#JOBNO#' }, 'scheme-not-allowed'],
    ['no literal scheme', { template: '{+base}/x' }, 'scheme-required'],
  ])('refuses %s', async (_name, change, code) => {
    const res = await create({ sourceApp: newApp(), uriType: 'appointment', ...change });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { code: string }) => e.code)).toContain(code);
  });

  it('refuses a template over 1000 characters and a description over 255', async () => {
    const long = await create({
      sourceApp: newApp(),
      uriType: 'task',
      template: `https://x.example/${'a'.repeat(990)}`,
    });
    expect(long.body.errors[0].path).toBe('template');
    const description = await create({
      sourceApp: newApp(),
      uriType: 'task',
      template: 'https://x.example/',
      description: 'd'.repeat(256),
    });
    expect(description.body.errors[0].path).toBe('description');
  });

  it('allows one default per scope', async () => {
    const sourceApp = newApp();
    const scope = {
      sourceApp,
      sourceType: 'SERVICE',
      uriType: 'task',
      template: 'https://x.example/#TASKNO#',
      isDefault: true,
    };
    expect((await create(scope)).status).toBe(201);
    const second = await create(scope);
    expect(second.status).toBe(409);
    expect(second.body.type).toBe('urn:backoffice-connector:problem:default-exists');
    expect((await create({ ...scope, uriType: 'map' })).status).toBe(201); // another scope
  });
});

describe('POST /api/action-uris/render', () => {
  it('renders the matching definitions for one record, defaults first, with POST bodies', async () => {
    const sourceApp = newApp();
    const open = await create({
      sourceApp,
      sourceType: 'SERVICE',
      uriType: 'appointment',
      description: 'b open',
      template: "https://bc.example/?page=5900&filter='No.' IS '#JOBNO#'",
    });
    const mail = await create({
      sourceApp,
      sourceType: null,
      uriType: 'appointment',
      description: 'a mail',
      isDefault: true,
      template: 'mailto:planner@example.com{?subject}',
    });
    const post = await create({
      sourceApp,
      sourceType: 'SERVICE',
      uriType: 'appointment',
      description: 'c post',
      requestType: 'POST',
      template: 'https://hooks.example/{jobNo}/#DATABASEACTION#',
    });
    await create({ sourceApp, sourceType: 'PROJECT', uriType: 'appointment', template: 'https://other.example/' });
    await create({ sourceApp, sourceType: 'SERVICE', uriType: 'task', template: 'https://task.example/' });
    const record = {
      sourceApp: sourceApp.toLowerCase(),
      sourceType: 'service',
      jobNo: "SO-1'2",
      subject: 'Fix & test',
      databaseAction: 'U',
      start: '2026-11-30T09:00:00+01:00',
    };
    const res = await render({ uriType: 'appointment', records: [record] });
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([mail.body.id, open.body.id, post.body.id]);
    expect(res.body.items[0]).toMatchObject({
      method: 'GET',
      uri: 'mailto:planner@example.com?subject=Fix%20%26%20test',
      isDefault: true,
    });
    expect(res.body.items[1].uri).toBe("https://bc.example/?page=5900&filter='No.'%20IS%20'SO-1%272'");
    expect(res.body.items[2]).toMatchObject({ method: 'POST', uri: 'https://hooks.example/SO-1%272/E', body: record });
  });

  it('binds several records as lists of distinct values; a #TOKEN# joins them with |', async () => {
    const sourceApp = newApp();
    await create({
      sourceApp,
      uriType: 'map',
      template: "https://bc.example/?page=5900&filter='No.' IS '#JOBNO#'{&taskNo}",
    });
    const records = [
      { sourceApp, jobNo: 'SO-1', taskNo: '10' },
      { sourceApp, jobNo: 'SO-2', taskNo: '10' },
      { sourceApp, jobNo: 'SO-1', taskNo: '20' },
    ];
    const res = await render({ uriType: 'map', records });
    expect(res.body.items[0].uri).toBe("https://bc.example/?page=5900&filter='No.'%20IS%20'SO-1%7CSO-2'&taskNo=10,20");
    expect(
      (
        await render({
          uriType: 'map',
          records: [
            { sourceApp, jobNo: 'A', taskNo: '1' },
            { sourceApp: newApp(), jobNo: 'B', taskNo: '1' },
          ],
        })
      ).body.items,
    ).toEqual([]);
  });

  it('reflects a replaced template at once and drops a deleted one', async () => {
    const sourceApp = newApp();
    const def = await create({ sourceApp, uriType: 'task', template: 'https://one.example/#TASKNO#' });
    const record = { sourceApp, jobNo: 'J', taskNo: 'T1' };
    expect((await render({ uriType: 'task', records: [record] })).body.items[0].uri).toBe('https://one.example/T1');
    const put = await app.fetch(`/api/action-uris/${def.body.id}`, {
      method: 'PUT',
      json: { sourceApp, uriType: 'task', template: 'https://two.example/{taskNo}' },
    });
    expect(put.status).toBe(200);
    expect((await render({ uriType: 'task', records: [record] })).body.items[0].uri).toBe('https://two.example/T1');
    expect((await app.fetch(`/api/action-uris/${def.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await render({ uriType: 'task', records: [record] })).body.items).toEqual([]);
  });

  it('validates records: unknown fields and sizes, with the path', async () => {
    const res = await render({
      uriType: 'task',
      records: [{ sourceApp: 'X', jobNo: 'J', taskNo: 'T', colour: 'red' }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('records[0].colour');
    const big = await render({ uriType: 'task', records: [{ sourceApp: 'X', jobNo: 'J'.repeat(51), taskNo: 'T' }] });
    expect(big.body.errors[0].path).toBe('records[0].jobNo');
  });
});

describe('one default per scope, under concurrency', () => {
  const scope = () => ({
    sourceApp: `DEF${Math.random().toString(36).slice(2, 8).toUpperCase()}`,
    sourceType: 'SERVICE',
    uriType: 'task',
  });
  const definition = (s: ReturnType<typeof scope>, i: number, isDefault: boolean) => ({
    ...s,
    template: `https://x.example/${i}/#JOBNO#`,
    description: `definition ${i}`,
    isDefault,
  });

  it('30 parallel creates of a default in one scope store exactly one', async () => {
    const s = scope();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        app.fetch('/api/action-uris', { method: 'POST', json: definition(s, i, true) }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 201)).toHaveLength(1);
    expect(statuses.filter((x) => x === 409)).toHaveLength(29);
    for (const r of results.filter((x) => x.status === 409))
      expect((await jsonOf(r)).type).toBe('urn:backoffice-connector:problem:default-exists');
    const listed = (await jsonOf(await app.fetch(`/api/action-uris?sourceApp=${s.sourceApp}`))).items;
    expect(listed.filter((d: { isDefault: boolean }) => d.isDefault)).toHaveLength(1);
  });

  it('10 parallel updates that each make a different definition the default leave exactly one', async () => {
    const s = scope();
    const created = await Promise.all(
      Array.from({ length: 10 }, async (_, i) =>
        jsonOf(await app.fetch('/api/action-uris', { method: 'POST', json: definition(s, i, false) })),
      ),
    );
    const results = await Promise.all(
      created.map((d, i) => app.fetch(`/api/action-uris/${d.id}`, { method: 'PUT', json: definition(s, i, true) })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    const listed = (await jsonOf(await app.fetch(`/api/action-uris?sourceApp=${s.sourceApp}`))).items;
    expect(listed.filter((d: { isDefault: boolean }) => d.isDefault)).toHaveLength(1);
  });

  it('lets another definition become the default once the default is deleted or unset', async () => {
    const s = scope();
    const first = await jsonOf(await app.fetch('/api/action-uris', { method: 'POST', json: definition(s, 1, true) }));
    expect((await app.fetch(`/api/action-uris/${first.id}`, { method: 'DELETE' })).status).toBe(204);
    const second = await app.fetch('/api/action-uris', { method: 'POST', json: definition(s, 2, true) });
    expect(second.status).toBe(201);
    const secondId = (await jsonOf(second)).id;
    expect(
      (await app.fetch(`/api/action-uris/${secondId}`, { method: 'PUT', json: definition(s, 2, false) })).status,
    ).toBe(200);
    expect((await app.fetch('/api/action-uris', { method: 'POST', json: definition(s, 3, true) })).status).toBe(201);
  });
});

describe('the audit trail of definitions', () => {
  it('records create, replace and delete with the changed fields, by "local" when AUTH_MODE is off', async () => {
    const input = { sourceApp: 'AUDITURI', uriType: 'task', template: 'https://x.example/#JOBNO#' };
    const created = await jsonOf(await app.fetch('/api/action-uris', { method: 'POST', json: input }));
    await app.fetch(`/api/action-uris/${created.id}`, {
      method: 'PUT',
      json: { ...input, template: 'https://y.example/#JOBNO#', description: 'moved' },
    });
    await app.fetch(`/api/action-uris/${created.id}`, { method: 'DELETE' });
    const entries = (await jsonOf(await app.fetch(`/api/audit?resourceType=action-uri&resourceId=${created.id}`)))
      .items;
    expect(
      entries.map((e: { operation: string; changedFields: string[]; actor: { kind: string } }) => [
        e.operation,
        e.changedFields,
        e.actor.kind,
      ]),
    ).toEqual([
      ['action-uri.delete', [], 'local'],
      ['action-uri.replace', ['description', 'template'], 'local'],
      [
        'action-uri.create',
        ['description', 'isDefault', 'requestType', 'sourceApp', 'sourceType', 'template', 'uriType'],
        'local',
      ],
    ]);
  });
});
