// The Functions entry: registers every function from the generated manifest. Handlers, services and SDKs
// load on first use, so a cold start pays only for @azure/functions and this table (and, when telemetry is
// configured, the OpenTelemetry SDK, which must be in place before the first invocation).
import * as functions from '@azure/functions';
import { guardDeepMessages } from './functions/deepMessageGuard';
import { lazyHttp, lazyQueue, lazyTimer } from './functions/lazy';
import { registerLifecycleHooks } from './functions/lifecycle';
import { httpFunctions, modules, queueFunctions, timerFunctions } from './functions/manifest';
import { startTelemetryWhenConfigured } from './platform/telemetryStart';

const { app } = functions;
startTelemetryWhenConfigured(functions);

// Callers authenticate with Entra ID bearer tokens, checked in the app (AUTH_MODE); function keys are not used.
for (const f of httpFunctions)
  app.http(f.name, {
    route: f.route,
    methods: [...f.methods],
    authLevel: 'anonymous',
    handler: lazyHttp(modules[f.module], f.name),
  });

for (const f of queueFunctions)
  app.storageQueue(f.name, {
    queueName: f.queueName,
    connection: 'AzureWebJobsStorage',
    handler: lazyQueue(modules[f.module], f.name),
  });

for (const f of timerFunctions)
  app.timer(f.name, { schedule: f.schedule, runOnStartup: false, handler: lazyTimer(modules[f.module], f.name) });

registerLifecycleHooks();
guardDeepMessages();
