// The host stand-in, on a sample app: routing like the host, the library's own converters, hooks,
// the admin endpoint and a queue trigger with its metadata.
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQueueMessage } from '../../src/platform/storageClients';
import { hookLog, seen } from '../fixtures/sampleApp';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp, uniqueName } from '../support/testApp';

let app: TestApp;
const queueName = uniqueName('sample');

beforeAll(async () => {
  app = await startTestApp({ entry: 'test/fixtures/sampleApp.ts', env: { SAMPLE_QUEUE: queueName } });
});
afterAll(() => app?.stop());

describe('host stand-in: registration', () => {
  it('receives the metadata the library builds, including authLevel and the resolved routes', () => {
    const echo = app.host.functions.get('echo')!;
    const trigger = Object.values(echo.metadata.bindings).find((b) => b.type === 'httpTrigger')!;
    expect(trigger).toMatchObject({
      direction: 'in',
      authLevel: 'function',
      route: 'items/{category:alpha}/{id:int?}',
      methods: ['GET', 'POST'],
    });
    expect(echo.metadata.bindings.$return).toMatchObject({ type: 'http', direction: 'out' });
    const work = app.host.functions.get('work')!;
    expect(Object.values(work.metadata.bindings).find((b) => b.type === 'queueTrigger')).toMatchObject({
      queueName: '%SAMPLE_QUEUE%',
    });
    expect(hookLog[0]).toBe('appStart');
  });
});

describe('host stand-in: HTTP', () => {
  it('routes by template under /api with parameters, query, headers and body through HttpRequest', async () => {
    const res = await app.fetch('/api/items/tools/42?x=1&x=2&y=z', {
      method: 'POST',
      body: 'hello',
      headers: { 'x-custom': 'abc', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo')).toBe('yes');
    const body = await jsonOf(res);
    expect(body).toMatchObject({
      method: 'POST',
      params: { category: 'tools', id: '42' },
      query: { x: '1,2', y: 'z' },
      body: 'hello',
      header: 'abc',
    });
    // A child span of the caller's trace.
    expect(body.traceParent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[\da-f]{16}-01$/);
    expect(body.traceParent).not.toContain('b7ad6b7169203331');
  });

  it('serves optional parameters and prefers a literal route over a parameter', async () => {
    expect(await jsonOf(await app.fetch('/api/items/tools'))).toMatchObject({ params: { category: 'tools' } });
    const before = app.logs.length;
    expect(await (await app.fetch('/api/items/special')).text()).toBe('literal wins');
    // One line per HTTP call, when it ends: method, path, status, time, function.
    const lines = app.logs.slice(before).filter((l) => l.includes('/api/items/special') || l.includes('Executing'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[information\/host\] GET \/api\/items\/special 200 in \d+ ms \(Functions\.\w+\)$/);
  });

  it('generates a trace when the caller sends none', async () => {
    const body = await jsonOf(await app.fetch('/api/items/tools'));
    expect(body.traceParent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
  });

  it('answers 404 for unknown routes and paths outside /api, and 405 with Allow for a wrong method', async () => {
    const notFound = await app.fetch('/api/items/42');
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toBe('application/problem+json');
    expect((await app.fetch('/elsewhere')).status).toBe(404);
    const wrongMethod = await app.fetch('/api/items/tools', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  });

  it('answers a throwing handler with a bare 500 and runs post-invocation hooks with the error', async () => {
    const res = await app.fetch('/api/boom');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('');
    expect(hookLog).toContain('pre:boom');
    expect(hookLog).toContain('post:boom:error');
    expect(app.logs.some((l) => l.includes("Executed 'Functions.boom' (Failed"))).toBe(true);
  });
});

describe('host stand-in: non-HTTP triggers', () => {
  it('runs a queue function through POST /admin/functions/{name}', async () => {
    const res = await app.fetch('/admin/functions/work', { method: 'POST', json: { input: '{"via":"admin"}' } });
    expect(res.status).toBe(202);
    expect(seen.find((s) => (s.input as { via?: string }).via === 'admin')).toBeTruthy();
    expect((await app.fetch('/admin/functions/nope', { method: 'POST', json: { input: '' } })).status).toBe(404);
  });

  it('listens to the queue named by the %SETTING% expression, decodes base64 and passes dequeueCount', async () => {
    const queue = QueueServiceClient.fromConnectionString(app.env.AzureWebJobsStorage!).getQueueClient(queueName);
    await queue.sendMessage(encodeQueueMessage({ hello: 'queue' }));
    const hit = await eventually(() => seen.find((s) => (s.input as { hello?: string }).hello === 'queue'));
    expect(hit.dequeueCount).toBe(1);
    expect(hit.traceParent).toMatch(/^00-[\da-f]{32}-/);
  });
});
