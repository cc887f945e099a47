import type { TestProject } from 'vitest/node';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite';
import { freePort } from '../../src/local/ports';

let azurite: RunningAzurite | undefined;

export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite({ ports: { blob: await freePort(), queue: await freePort(), table: await freePort() } });
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
