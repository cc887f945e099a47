import type { TestProject } from 'vitest/node';
import { type RunningAzurite, startAzuriteOnFreePorts } from '../../src/local/azurite';

// One Azurite per project that uses this setup (the integration layer, the scale-out test), each stopped by
// the teardown its setup returns: two projects that run at once never share or leak one.
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const azurite: RunningAzurite = await startAzuriteOnFreePorts();
  project.provide('azuriteConnectionString', azurite.connectionString);
  project.provide('azuriteQueuePort', azurite.ports.queue);
  project.provide('azuriteTablePort', azurite.ports.table);
  return () => azurite.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
    azuriteQueuePort: number;
    azuriteTablePort: number;
  }
}
