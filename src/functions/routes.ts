// Every HTTP route of the app in one table: index.ts registers them, the catch-all answers 404/405
// from them, and the OpenAPI document is built from them. No zod here: this loads at cold start.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const modules = {
  system: () => import('./system.js'),
};
export type ModuleName = keyof typeof modules;
export const loadModule = (name: ModuleName) => modules[name]();

export interface RouteEntry {
  /** Function name, unique in the app. */
  name: string;
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function' | 'admin';
  module: ModuleName;
  /** Exported handler of that module; the module's `docs` describe it under the same key. */
  handler: string;
}

export const routeTable: RouteEntry[] = [
  { name: 'health', route: 'health', methods: ['GET'], authLevel: 'anonymous', module: 'system', handler: 'health' },
  {
    name: 'openapi',
    route: 'openapi.json',
    methods: ['GET'],
    authLevel: 'anonymous',
    module: 'system',
    handler: 'openapi',
  },
];

/** Registered last, matched last (a catch-all has the lowest precedence): problem+json 404/405 for the rest. */
export const fallbackRoute: RouteEntry = {
  name: 'fallback',
  route: '{*path}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'anonymous',
  module: 'system',
  handler: 'fallback',
};
