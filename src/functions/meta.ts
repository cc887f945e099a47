// The API about the API: GET /api/openapi.json, and the catch-all that answers 404/405 as problem+json for
// every path no route serves (registered last; a catch-all has the lowest precedence).
import { z } from 'zod';
import { appVersion } from '../platform/appInfo';
import { MethodNotAllowedError, NotFoundError } from '../platform/errors';
import { compileRoute } from '../platform/routeTemplate';
import { catalog } from './catalog';
import { buildOpenApi } from './openapi';
import { defineRoute, type RouteDeclaration } from './route';

let openApiDocument: string | undefined;

const openapi = defineRoute({
  name: 'openapi',
  method: 'GET',
  route: 'openapi.json',
  role: null,
  summary: 'This document',
  tags: ['system'],
  // Like every route, unknown query parameters are refused.
  query: z.strictObject({}),
  responses: { 200: { description: 'OpenAPI 3.1 document' } },
  async handler() {
    openApiDocument ??= JSON.stringify(
      buildOpenApi(documented(), { title: 'Back-office connector service', version: appVersion() }),
    );
    return { status: 200, body: openApiDocument, headers: { 'content-type': 'application/json; charset=utf-8' } };
  },
});

const fallback = defineRoute({
  name: 'fallback',
  method: 'GET',
  route: '{*path}',
  role: null,
  summary: 'No route serves this path',
  tags: [],
  responses: { 404: { description: 'No route' }, 405: { description: 'Another method' } },
  undocumented: true,
  anyMethod: true,
  async handler({ request }) {
    const path = (request.params.path ?? '').replace(/^\/+/, '');
    const allowed = compiled()
      .filter((r) => r.route.match(path))
      .flatMap((r) => methodsOf(r.declaration));
    if (allowed.length)
      throw new MethodNotAllowedError(`${request.method} is not allowed on /api/${path}.`, [...new Set(allowed)]);
    throw new NotFoundError(`No route serves /api/${path}. GET /api/openapi.json lists the routes.`);
  },
});

export const routes = [openapi, fallback];

/** Every declared route of the app but the catch-all. */
export function allRoutes(): RouteDeclaration[] {
  return [...Object.values(catalog).flatMap((m) => m.routes ?? []), openapi];
}

const documented = () => allRoutes().filter((r) => !r.undocumented);

/** The methods a route answers: GET also answers HEAD; the catch-all answers all. */
export const methodsOf = (route: Pick<RouteDeclaration, 'method' | 'anyMethod'>): string[] =>
  route.anyMethod
    ? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']
    : route.method === 'GET'
      ? ['GET', 'HEAD']
      : [route.method];

let compiledRoutes: Array<{ declaration: RouteDeclaration; route: ReturnType<typeof compileRoute> }> | undefined;
const compiled = () => {
  compiledRoutes ??= allRoutes().map((declaration) => ({ declaration, route: compileRoute(declaration.route) }));
  return compiledRoutes;
};
