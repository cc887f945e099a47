// System endpoints: health (anonymous), the OpenAPI document, and the problem+json fallback for unknown routes.
import { z } from 'zod';
import { appVersion } from '../platform/appInfo';
import { ConfigError } from '../platform/config';
import { MethodNotAllowedError, NotFoundError } from '../platform/errors';
import { buildOpenApi, type DocumentedRoute, type RouteDoc } from '../platform/openapi';
import { compileRoute } from '../platform/routeTemplate';
import { getServices } from '../services';
import { httpEndpoint, json, readQuery } from './http';
import { loadModule, routeTable } from './routes';

const version = appVersion();

const healthQuery = z.object({
  deep: z.enum(['true', 'false']).optional().describe('also check tables, the queue and Key Vault'),
});
const healthCheck = z.object({
  name: z.string(),
  ok: z.boolean(),
  durationMs: z.number(),
  error: z.string().optional(),
});
const healthBody = z.object({
  status: z.enum(['ok', 'degraded', 'misconfigured']),
  version: z.string(),
  time: z.iso.datetime(),
  checks: z.array(healthCheck).optional(),
  problems: z.array(z.string()).optional(),
});

export const docs: Record<string, RouteDoc> = {
  health: {
    summary: 'Liveness, and with ?deep=true the reachability of tables, queue and Key Vault',
    tags: ['system'],
    query: healthQuery,
    responses: {
      200: {
        description: 'Healthy',
        schema: healthBody,
        example: { status: 'ok', version, time: '2026-11-28T09:00:00.000Z' },
      },
      503: { description: 'A dependency is unreachable or a setting is invalid', schema: healthBody },
    },
  },
  openapi: {
    summary: 'This document',
    tags: ['system'],
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
  },
};

export const health = httpEndpoint(async ({ request, log }) => {
  const { deep } = readQuery(request, healthQuery);
  const time = new Date().toISOString();
  let services: ReturnType<typeof getServices>;
  try {
    services = getServices();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error('config.invalid', { problems: error.problems });
    return json(503, { status: 'misconfigured', version, time, problems: error.problems });
  }
  if (deep !== 'true') return json(200, { status: 'ok', version, time });
  const checks = await services.checkDependencies();
  const ok = checks.every((c) => c.ok);
  if (!ok) log.warn('health.degraded', { checks });
  return json(ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', version, time, checks });
});

let openApiDocument: string | undefined;

export async function documentedRoutes(): Promise<DocumentedRoute[]> {
  const routes: DocumentedRoute[] = [];
  for (const entry of routeTable) {
    const mod = (await loadModule(entry.module)) as { docs?: Record<string, RouteDoc> };
    const doc = mod.docs?.[entry.handler];
    if (!doc)
      throw new Error(`Route ${entry.name} has no OpenAPI description (docs.${entry.handler} in ${entry.module})`);
    for (const method of entry.methods)
      routes.push({ name: entry.name, route: entry.route, method, authLevel: entry.authLevel, doc });
  }
  return routes;
}

export const openapi = httpEndpoint(async () => {
  openApiDocument ??= JSON.stringify(
    buildOpenApi(await documentedRoutes(), { title: 'Back-office connector service', version }),
  );
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: openApiDocument };
});

const compiledRoutes = routeTable.map((entry) => ({ entry, route: compileRoute(entry.route) }));

export const fallback = httpEndpoint(async ({ request }) => {
  const path = (request.params.path ?? '').replace(/^\/+/, '');
  const allowed = compiledRoutes.filter((r) => r.route.match(path)).flatMap((r) => r.entry.methods);
  if (allowed.length)
    throw new MethodNotAllowedError(`${request.method} is not allowed on /api/${path}.`, [...new Set(allowed)]);
  throw new NotFoundError(`No route serves /api/${path}. GET /api/openapi.json lists the routes.`);
});
