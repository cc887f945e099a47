// The run's Azurite (started once by globalSetup), reached from a test as the app reaches it.
import { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';

export const azuriteTable = (name: string): TableClient =>
  TableClient.fromConnectionString(inject('azuriteConnectionString'), name, { allowInsecureConnection: true });
