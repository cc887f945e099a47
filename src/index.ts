// The Functions entry: registers every function. Handlers, services and SDKs load lazily on first use.
import { app } from '@azure/functions';
import { lazyHttp, lazyTrigger } from './functions/lazy';
import { fallbackRoute, loadModule, routeTable, triggers } from './functions/routes';

const load = (name: Parameters<typeof loadModule>[0]) => () => loadModule(name) as Promise<Record<string, unknown>>;

for (const entry of [...routeTable, fallbackRoute]) {
  app.http(entry.name, {
    route: entry.route,
    methods: entry.methods,
    authLevel: entry.authLevel,
    handler: lazyHttp(load(entry.module), entry.handler),
  });
}

for (const name of ['appointmentChanged', 'deliveryRetried'] as const) {
  const { queueName, module } = triggers[name];
  app.storageQueue(name, { queueName, connection: 'AzureWebJobsStorage', handler: lazyTrigger(load(module), name) });
}

app.timer('poisonSweep', {
  schedule: triggers.poisonSweep.schedule,
  runOnStartup: false,
  handler: lazyTrigger(load(triggers.poisonSweep.module), 'poisonSweep'),
});
