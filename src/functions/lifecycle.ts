// The app's lifecycle hooks.
// Starting: the services are built as the app starts, so an instance writes its heartbeat (deep health lists it)
// and reports bad settings at once, not at its first invocation. The host waits for the hook: it loads what the
// first invocation would load anyway, with import(), so requiring the entry stays as light as before.
// Stopping (scale-in, a deployment, Ctrl-C locally): runs the tasks the services registered, such as giving
// its Business Central budget slots back to the other instances.
import { app } from '@azure/functions';
import { runShutdownTasks } from '../platform/shutdown';

export function registerLifecycleHooks(): void {
  app.hook.appStart(() => startServices());
  app.hook.appTerminate(() => runShutdownTasks());
}

async function startServices(): Promise<void> {
  try {
    (await import('../services.js')).getServices();
  } catch (error) {
    // Never fails the start: every invocation answers with the same error; this says it once, before anyone calls.
    const [{ ConfigError }, { consoleSink, createLogger }] = await Promise.all([
      import('../platform/config.js'),
      import('../platform/logging.js'),
    ]);
    const log = createLogger(consoleSink, { component: 'lifecycle' });
    if (error instanceof ConfigError) log.error('app.misconfigured', { problems: error.problems });
    else log.error('app.start-failed', { error });
  }
}
