// The app's lifecycle hooks. A stopping instance (scale-in, a deployment, Ctrl-C locally) runs the tasks the
// services registered, such as giving its Business Central budget slots back to the other instances.
import { app } from '@azure/functions';
import { runShutdownTasks } from '../platform/shutdown';

export function registerLifecycleHooks(): void {
  app.hook.appTerminate(() => runShutdownTasks());
}
