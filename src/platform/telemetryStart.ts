// Starts OpenTelemetry when the environment asks for it: APPLICATIONINSIGHTS_CONNECTION_STRING (Azure) or an
// OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, or one per signal). Otherwise nothing is loaded.
//
// The SDK (telemetrySdk.ts, some 300 ms of modules) loads beside the host's start rather than in the entry's
// load: the entry only tells the host that the worker exports its own telemetry (app.setup, which the host
// locks once the entry has loaded) and holds each invocation until the SDK is in place, so none goes untraced.
import { onShutdown } from './shutdown';
import type { RunningTelemetry, TelemetryOptions } from './telemetrySdk';

const SIGNAL_ENDPOINTS = [
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
];

export const telemetryConfigured = (env: NodeJS.ProcessEnv): boolean =>
  SIGNAL_ENDPOINTS.some((name) => Boolean(env[name]?.trim())) && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true';

type Functions = NonNullable<TelemetryOptions['functions']>;

export function startTelemetryWhenConfigured(
  functions: Functions,
  env: NodeJS.ProcessEnv = process.env,
  log: (message: string) => void = (m) => console.error(m),
): Promise<RunningTelemetry | undefined> | undefined {
  if (!telemetryConfigured(env)) return undefined;
  functions.app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
  // On the next turn of the event loop: the entry's load (what the host waits for) ends first.
  const ready = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() =>
      Promise.all([
        import('./telemetrySdk.js'),
        import('./redact.js'),
        import('./instance.js'),
        import('./appInfo.js'),
      ]),
    )
    .then(([sdk, { redact }, { instanceId }, { appVersion }]) =>
      sdk.startTelemetry({
        env,
        // The capability is set above; the instrumentation's own call would come after the host locked setup.
        functions: { ...functions, app: { ...functions.app, setup: () => undefined } } as Functions,
        redact,
        serviceName: env.WEBSITE_SITE_NAME?.trim() || 'backoffice-connector-service',
        serviceVersion: appVersion(),
        instanceId,
      }),
    )
    .catch((error: unknown) => {
      // Telemetry that cannot start must not stop the service: it runs without, and says so once (the name
      // only: a message about a connection string could quote it).
      log(`telemetry.start-failed ${error instanceof Error ? error.name : 'error'}`);
      return undefined;
    });
  // Registered first, so it runs first: the hooks the instrumentation adds while this waits run right after it.
  functions.app.hook.preInvocation(async () => {
    await ready;
  });
  // Flushed when the host stops the instance (scale-in, a deployment, Ctrl-C locally).
  onShutdown(async () => {
    await (await ready)?.shutdown();
  });
  return ready;
}
