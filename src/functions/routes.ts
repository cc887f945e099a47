// Every HTTP route of the app in one table: index.ts registers them, the catch-all answers 404/405
// from them, and the OpenAPI document is built from them. No zod here: this loads at cold start.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const modules = {
  system: () => import('./system.js'),
  connectors: () => import('./connectors.js'),
  sync: () => import('./sync.js'),
  actionUris: () => import('./actionUris.js'),
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

const fn = (
  name: string,
  methods: HttpMethod[],
  route: string,
  module: ModuleName,
  authLevel: RouteEntry['authLevel'] = 'function',
): RouteEntry => ({ name, methods, route, module, handler: name, authLevel });

export const routeTable: RouteEntry[] = [
  fn('health', ['GET'], 'health', 'system', 'anonymous'),
  fn('openapi', ['GET'], 'openapi.json', 'system', 'anonymous'),
  fn('createConnector', ['POST'], 'connectors', 'connectors'),
  fn('listConnectors', ['GET'], 'connectors', 'connectors'),
  fn('getConnector', ['GET'], 'connectors/{id}', 'connectors'),
  fn('replaceConnector', ['PUT'], 'connectors/{id}', 'connectors'),
  fn('deleteConnector', ['DELETE'], 'connectors/{id}', 'connectors'),
  fn('testConnector', ['POST'], 'connectors/{id}/test', 'connectors'),
  fn('createActionUri', ['POST'], 'action-uris', 'actionUris'),
  fn('listActionUris', ['GET'], 'action-uris', 'actionUris'),
  fn('renderActionUris', ['POST'], 'action-uris/render', 'actionUris'),
  fn('getActionUri', ['GET'], 'action-uris/{id}', 'actionUris'),
  fn('replaceActionUri', ['PUT'], 'action-uris/{id}', 'actionUris'),
  fn('deleteActionUri', ['DELETE'], 'action-uris/{id}', 'actionUris'),
  fn('postAppointments', ['POST'], 'appointments', 'sync'),
  fn('listDeliveries', ['GET'], 'deliveries', 'sync'),
  fn('getDelivery', ['GET'], 'deliveries/{id}', 'sync'),
  fn('replayDelivery', ['POST'], 'deliveries/{id}/replay', 'sync'),
];

/** Queue and timer triggers. Queue names and the schedule are app settings (binding expressions). */
export const triggers = {
  appointmentChanged: { queueName: '%APPOINTMENTS_QUEUE%', module: 'sync' as ModuleName },
  deliveryRetried: { queueName: '%APPOINTMENT_RETRIES_QUEUE%', module: 'sync' as ModuleName },
  poisonSweep: { schedule: '%POISON_SWEEP_SCHEDULE%', module: 'sync' as ModuleName },
};

/** Registered last, matched last (a catch-all has the lowest precedence): problem+json 404/405 for the rest. */
export const fallbackRoute: RouteEntry = {
  name: 'fallback',
  route: '{*path}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'anonymous',
  module: 'system',
  handler: 'fallback',
};
