// Producers for the sync's queues: base64 text, as the queue trigger expects (the SDK sends text as is).
import type { AppConfig } from '../platform/config';
import type { Storage } from '../platform/storage';
import { encodeQueueMessage } from '../platform/storageClients';
import type { SyncQueues } from './syncService';

export function createSyncQueues(storage: Storage, names: AppConfig['queues']): SyncQueues {
  return {
    async sendChange(change) {
      await (await storage.queue(names.appointments)).sendMessage(encodeQueueMessage(change));
    },
    async sendWorkItem(item, delaySeconds) {
      await (await storage.queue(names.appointmentRetries)).sendMessage(encodeQueueMessage(item), {
        visibilityTimeout: delaySeconds,
      });
    },
  };
}
