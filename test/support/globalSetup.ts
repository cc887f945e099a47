import type { TestProject } from 'vitest/node';
import { type RunningAzurite, startAzuriteOnFreePorts } from '../../src/local/azurite';

// Azurite for a project that uses this setup, each stopped by the teardown the setup returns, so two projects
// that run at once never share or leak one. The integration layer gets one per process it runs at once (a file
// takes its process slot's, support/azurite.ts): one Azurite for all of them was the bottleneck, a single
// process answering every file's storage requests, and under load it answered past the app's 10 s bounds.
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const slots = project.name === 'integration' ? Number(project.globalConfig.poolOptions?.forks?.maxForks ?? 1) : 1;
  const started: RunningAzurite[] = await Promise.all(Array.from({ length: slots }, () => startAzuriteOnFreePorts()));
  project.provide(
    'azurite',
    started.map((a) => ({ connectionString: a.connectionString, queuePort: a.ports.queue, tablePort: a.ports.table })),
  );
  return async () => {
    await Promise.all(started.map((a) => a.stop()));
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    azurite: Array<{ connectionString: string; queuePort: number; tablePort: number }>;
  }
}
