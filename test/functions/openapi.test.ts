// The OpenAPI document says what the code does, and Redocly's recommended rules find nothing in it; GET routes
// answer HEAD and If-None-Match; a body read with GET can be PUT back.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../support/run';
import { jsonOf, repoRoot, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
// biome-ignore lint/suspicious/noExplicitAny: the document is walked as JSON
let doc: any;
beforeAll(async () => {
  app = await startTestApp();
  doc = await jsonOf(await app.fetch('/api/openapi.json'));
});
afterAll(() => app?.stop());

const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses);

describe('the OpenAPI document', () => {
  it('passes `redocly lint` with 0 errors and 0 warnings', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const lint = await run(
      process.execPath,
      [join(repoRoot, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'), 'lint', file, '--format=json'],
      { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
    );
    const result = JSON.parse(lint.stdout) as { totals: object; problems: unknown[] };
    expect(result.problems).toEqual([]);
    expect(result.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
  }, 120_000);

  it.each([
    ['/api/connectors/{id}', 'put', ['200', '400', '401', '403', '404', '412', '413', '415', '503', 'default']],
    ['/api/connectors/{id}', 'delete', ['204', '400', '401', '403', '404', '412', '503', 'default']],
    ['/api/connectors/{id}', 'get', ['200', '304', '400', '401', '403', '404', 'default']],
    ['/api/connectors', 'get', ['200', '304', '400', '401', '403', 'default']],
    ['/api/action-uris', 'post', ['201', '400', '401', '403', '409', '413', '415', 'default']],
    ['/api/action-uris/render', 'post', ['200', '400', '401', '403', '413', '415', 'default']],
    ['/api/appointments', 'post', ['202', '400', '401', '403', '413', '415', '503', 'default']],
  ])('documents every status %s %s answers', (path, method, expected) => {
    expect(statuses(path, method)).toEqual(expected);
  });

  it('names the role each operation needs, and the licence', () => {
    expect(doc.paths['/api/connectors'].post.security).toEqual([{ entra: ['Connectors.Manage'] }]);
    expect(doc.paths['/api/appointments'].post.security).toEqual([{ entra: ['Scheduler'] }]);
    expect(doc.paths['/api/health'].get.security).toEqual([{}, { entra: ['Deliveries.Read'] }]);
    expect(doc.components.securitySchemes.entra).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.info.license).toEqual({ name: 'Proprietary', identifier: 'LicenseRef-Proprietary' });
  });

  it('shows the render records by URI type, and the read-only properties as such', () => {
    const render = doc.paths['/api/action-uris/render'].post.requestBody.content['application/json'].schema;
    const variants = render.oneOf.map(
      (v: { properties: { uriType: { const: string } } }) => v.properties.uriType.const,
    );
    expect(variants).toEqual(['task', 'map', 'appointment', 'planningBoard']);
    const taskRecord = render.oneOf[0].properties.records.items;
    expect(taskRecord.required).toEqual(['sourceApp', 'jobNo', 'taskNo']);
    const input = doc.paths['/api/connectors'].post.requestBody.content['application/json'].schema;
    for (const name of ['id', 'hasPassword', 'credentialStatus', 'createdAt', 'updatedAt'])
      expect(input.properties[name].readOnly, name).toBe(true);
  });
});

describe('HTTP details', () => {
  const connector = {
    name: 'http details',
    sourceApp: 'HTTPDETAILS',
    backOffice: 'webhook',
    webServiceUri: 'https://hooks.example.com/in',
    password: 'whsec_c2VjcmV0LXZhbHVl',
  };

  it('answers HEAD like GET without a body, and If-None-Match with 304', async () => {
    const created = await jsonOf(await app.fetch('/api/connectors', { method: 'POST', json: connector }));
    const get = await app.fetch(`/api/connectors/${created.id}`);
    const etag = get.headers.get('etag')!;
    const head = await app.fetch(`/api/connectors/${created.id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(etag);
    expect(await head.text()).toBe('');
    const notModified = await app.fetch(`/api/connectors/${created.id}`, { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(etag);
    const list = await app.fetch('/api/connectors?sourceApp=HTTPDETAILS');
    const listTag = list.headers.get('etag')!;
    expect(listTag).toMatch(/^W\//);
    expect(
      (await app.fetch('/api/connectors?sourceApp=HTTPDETAILS', { headers: { 'if-none-match': listTag } })).status,
    ).toBe(304);
  });

  it('takes a body read with GET back with PUT unchanged: read-only properties are ignored', async () => {
    const created = await jsonOf(await app.fetch('/api/connectors', { method: 'POST', json: connector }));
    const read = await app.fetch(`/api/connectors/${created.id}`);
    const body = await jsonOf(read);
    const put = await app.fetch(`/api/connectors/${created.id}`, {
      method: 'PUT',
      json: body,
      headers: { 'if-match': read.headers.get('etag')! },
    });
    expect(put.status).toBe(200);
    const after = await jsonOf(put);
    expect({ ...after, updatedAt: body.updatedAt }).toEqual(body);

    const uri = await jsonOf(
      await app.fetch('/api/action-uris', {
        method: 'POST',
        json: { sourceApp: 'HTTPDETAILS', uriType: 'task', template: 'https://x.example/{jobNo}' },
      }),
    );
    const readUri = await jsonOf(await app.fetch(`/api/action-uris/${uri.id}`));
    expect((await app.fetch(`/api/action-uris/${uri.id}`, { method: 'PUT', json: readUri })).status).toBe(200);
  });
});
