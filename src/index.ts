// The Functions entry: registers every function. Handlers, services and SDKs load lazily on first use.
import { app } from '@azure/functions';
import { lazyHttp } from './functions/lazy';
import { fallbackRoute, loadModule, routeTable } from './functions/routes';

for (const entry of [...routeTable, fallbackRoute]) {
  app.http(entry.name, {
    route: entry.route,
    methods: entry.methods,
    authLevel: entry.authLevel,
    handler: lazyHttp(() => loadModule(entry.module) as Promise<Record<string, unknown>>, entry.handler),
  });
}
