// The sync's queues: producers for changes, work items (retries, replays, recoveries) and recovery pages, and
// a reader for the poison queues. Base64 text, as the queue trigger expects (the SDK sends text as is).

import type { AppointmentChange } from '../model/appointmentChange';
import type { WorkItemMessage } from '../model/workItem';
import type { AppConfig } from '../platform/config';
import { DependencyError } from '../platform/errors';
import { poisonQueueName } from '../platform/resourceNames';
import type { Storage } from '../platform/storage';
import { decodeBase64Strict, encodeQueueMessage } from '../platform/storageClients';

/** Storage queues accept a visibility delay of at most 7 days. */
export const MAX_QUEUE_DELAY_SECONDS = 7 * 24 * 3600;

export interface PoisonedMessage {
  /** The decoded text, or null when the message is not base64 (then `raw` is what there is). */
  text: string | null;
  raw: string;
  /** Removes the message from the poison queue. */
  remove(): Promise<void>;
}

export interface SyncQueues {
  sendChange(change: AppointmentChange): Promise<void>;
  sendWorkItem(item: WorkItemMessage, delaySeconds: number): Promise<void>;
  sendRecoveryPage(page: unknown, delaySeconds?: number): Promise<void>;
  /** Up to `max` messages of the poison queue of one of the sync's queues, hidden for five minutes. */
  receivePoisoned(source: 'changes' | 'retries' | 'recoveries', max: number): Promise<PoisonedMessage[]>;
  ping(): Promise<void>;
}

export function createSyncQueues(storage: Storage, names: AppConfig['queues']): SyncQueues {
  const send = async (queue: string, body: unknown, delaySeconds = 0) => {
    try {
      await (await storage.queue(queue)).sendMessage(encodeQueueMessage(body), {
        visibilityTimeout: Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds))),
      });
    } catch (error) {
      if (error instanceof DependencyError) throw error;
      throw new DependencyError('Queue storage is unavailable.', 'storage-unavailable', { cause: error });
    }
  };
  const queueOf = { changes: names.appointments, retries: names.appointmentRetries, recoveries: names.recoveries };
  return {
    sendChange: (change) => send(names.appointments, change),
    sendWorkItem: (item, delaySeconds) => send(names.appointmentRetries, item, delaySeconds),
    sendRecoveryPage: (page, delaySeconds) => send(names.recoveries, page, delaySeconds),
    async receivePoisoned(source, max) {
      const poison = await storage.queue(poisonQueueName(queueOf[source]));
      try {
        const { receivedMessageItems } = await poison.receiveMessages({
          numberOfMessages: Math.min(32, max),
          visibilityTimeout: 300,
        });
        return receivedMessageItems.map((m) => ({
          text: decodeBase64Strict(m.messageText),
          raw: m.messageText,
          remove: async () => {
            await poison.deleteMessage(m.messageId, m.popReceipt);
          },
        }));
      } catch (error) {
        throw new DependencyError('Queue storage is unavailable.', 'storage-unavailable', { cause: error });
      }
    },
    async ping() {
      try {
        await (await storage.queue(names.appointments)).getProperties();
      } catch (error) {
        if (error instanceof DependencyError) throw error;
        throw new DependencyError('Queue storage is unavailable.', 'storage-unavailable', { cause: error });
      }
    },
  };
}
