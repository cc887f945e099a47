import type { TestProject } from 'vitest/node';
import { type RunningAzurite, startAzuriteOnFreePorts } from '../../src/local/azurite';

let azurite: RunningAzurite | undefined;

export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzuriteOnFreePorts();
  project.provide('azuriteConnectionString', azurite.connectionString);
  project.provide('azuriteQueuePort', azurite.ports.queue);
  project.provide('azuriteTablePort', azurite.ports.table);
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    azuriteConnectionString: string;
    azuriteQueuePort: number;
    azuriteTablePort: number;
  }
}
