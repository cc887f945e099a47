// System endpoints through the real entry, the host stand-in, Azurite and the Key Vault emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes, methodsOf } from '../../src/functions/meta';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

describe('GET /api/health', () => {
  it('answers 200 without touching dependencies', async () => {
    const res = await app.fetch('/api/health');
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toMatchObject({ status: 'ok', version: expect.any(String) });
  });

  it('with ?deep=true checks tables, queue and Key Vault', async () => {
    const res = await app.fetch('/api/health?deep=true');
    const body = await jsonOf(res);
    expect(res.status).toBe(200);
    expect(body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['tables', true],
      ['queue', true],
      ['keyVault', true],
    ]);
    // The instance that answered, by the name its rows carry (outside Azure and npm start, the start of the id
    // it holds budget slots under), the same on every call; and every live instance, this one among them.
    expect(body.instance).toMatch(/^[\da-f]{8}$/);
    expect((await jsonOf(await app.fetch('/api/health?deep=true'))).instance).toBe(body.instance);
    const self = await eventually(async () => {
      const again = await jsonOf(await app.fetch('/api/health?deep=true'));
      return again.instances?.find((i: { name: string }) => i.name === body.instance);
    }, 15_000);
    expect(self.id).toMatch(/^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/);
    expect(self.id.startsWith(body.instance)).toBe(true);
    expect(self.version).toBe(body.version);
  });

  it('answers 503 degraded and names the failing dependency when Key Vault fails', async () => {
    app.vault.injectFault({ method: 'GET', path: /^\/secrets$/, status: 500, times: 5 });
    const res = await app.fetch('/api/health?deep=true');
    const body = await jsonOf(res);
    expect(res.status).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.checks.find((c: { name: string }) => c.name === 'keyVault')).toMatchObject({
      ok: false,
      error: 'key-vault-unavailable',
    });
    expect(body.checks.find((c: { name: string }) => c.name === 'tables')).toMatchObject({ ok: true });
  });

  it('refuses a bad query value with problem+json naming the parameter', async () => {
    const res = await app.fetch('/api/health?deep=yes');
    expect(res.status).toBe(400);
    const problem = await jsonOf(res);
    expect(problem.errors[0].path).toBe('query.deep');
  });

  it('is registered anonymous, like every route: callers are checked in the app with Entra tokens', () => {
    const trigger = (name: string) =>
      Object.values(app.host.functions.get(name)!.metadata.bindings).find((b) => b.type === 'httpTrigger');
    for (const route of allRoutes()) expect(trigger(route.name)?.authLevel, route.name).toBe('anonymous');
  });
});

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document with every declared route', async () => {
    const res = await app.fetch('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = await jsonOf(res);
    expect(doc.openapi).toBe('3.1.0');
    for (const route of allRoutes()) {
      const path = `/api/${route.route}`.replace(/\{([^}:?=*]+)[^}]*\}/g, '{$1}');
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path}`).toBeDefined();
      expect(methodsOf(route)).toContain(route.method);
    }
    expect(JSON.stringify(doc)).not.toContain('{*path}');
    expect(doc.paths['/api/health'].get.parameters[0]).toMatchObject({ name: 'deep', in: 'query', required: false });
    expect(doc.components.schemas.Problem.properties.errors).toBeDefined();
  });
});

describe('errors and correlation', () => {
  it('answers an unknown route with problem+json 404 carrying the caller trace id as correlation id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await app.fetch('/api/no/such/route', {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('x-correlation-id')).toBe(traceId);
    expect(await jsonOf(res)).toMatchObject({
      type: 'urn:backoffice-connector:problem:not-found',
      status: 404,
      instance: '/api/no/such/route',
      correlationId: traceId,
    });
    expect(app.logs.some((l) => l.includes('request.rejected') && l.includes(traceId))).toBe(true);
  });

  it('answers a wrong method on a known route with 405 and Allow', async () => {
    const res = await app.fetch('/api/health', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await jsonOf(res)).type).toBe('urn:backoffice-connector:problem:method-not-allowed');
  });
});
