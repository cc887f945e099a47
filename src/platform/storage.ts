// Table and queue clients for the app, each created (if missing) once per process on first use.
import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { boundedCall } from './boundedHttp';
import type { AppConfig } from './config';
import type { Bounds } from './deadline';
import { DependencyError, statusCodeOf } from './errors';
import { createQueueServiceClient, createTableClient } from './storageClients';

export interface Storage {
  table(name: string): Promise<TableClient>;
  queue(name: string): Promise<QueueClient>;
  /** The bounds of one call (queue calls apply them themselves: platform/boundedHttp.ts `boundedCall`). */
  bounds: Bounds;
}

export function createStorage(config: Pick<AppConfig, 'storage' | 'dependencies'>): Storage {
  const tables = new Map<string, Promise<TableClient>>();
  const queues = new Map<string, Promise<QueueClient>>();
  const remember = <T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> => {
    let pending = map.get(key);
    if (!pending) {
      pending = make();
      map.set(key, pending);
      pending.catch(() => map.delete(key)); // a failed creation is retried on the next call
    }
    return pending;
  };
  return {
    bounds: config.dependencies,
    table: (name) =>
      remember(tables, name, async () => {
        const client = createTableClient(config.storage, name, config.dependencies);
        try {
          await client.createTable();
        } catch (error) {
          if (statusCodeOf(error) !== 409)
            throw new DependencyError('Table storage is unavailable.', 'storage-unavailable', { cause: error });
        }
        return client;
      }),
    queue: (name) =>
      remember(queues, name, async () => {
        const client = createQueueServiceClient(config.storage, { callerRetries: true }).getQueueClient(name);
        try {
          await boundedCall(
            (abortSignal) => client.createIfNotExists({ abortSignal }),
            `create queue ${name}`,
            config.dependencies,
          );
        } catch (error) {
          throw new DependencyError('Queue storage is unavailable.', 'storage-unavailable', { cause: error });
        }
        return client;
      }),
  };
}
