// The run's Azurite (started by globalSetup), reached from a test as the app reaches it: the one of this test
// process's slot (VITEST_POOL_ID, 1 to the number of processes), so files running at once spread their load.
import { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';

export function azurite(): { connectionString: string; queuePort: number; tablePort: number } {
  const all = inject('azurite');
  return all[(Number(process.env.VITEST_POOL_ID ?? '1') - 1) % all.length]!;
}

export const azuriteTable = (name: string): TableClient =>
  TableClient.fromConnectionString(azurite().connectionString, name, { allowInsecureConnection: true });
