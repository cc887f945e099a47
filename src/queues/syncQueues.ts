// The sync's queues: producers for changes, work items (retries, replays, recoveries) and recovery pages, and
// a reader for the poison queues. Base64 text, as the queue trigger expects (the SDK sends text as is).

import type { AppointmentChange } from '../model/appointmentChange';
import type { WorkItemMessage } from '../model/workItem';
import { boundedCall } from '../platform/boundedHttp';
import type { AppConfig } from '../platform/config';
import { ChangeTooLargeError, DependencyError, statusCodeOf } from '../platform/errors';
import { poisonQueueName } from '../platform/resourceNames';
import type { Storage } from '../platform/storage';
import { decodeBase64Strict, encodeQueueMessage } from '../platform/storageClients';

/** Storage queues accept a visibility delay of at most 7 days. */
export const MAX_QUEUE_DELAY_SECONDS = 7 * 24 * 3600;

/** A queue message holds at most 64 KiB of text: here base64, so about 48 KiB of JSON. */
export const MAX_QUEUE_MESSAGE_BYTES = 65_536;

/** The size of a message on the queue (base64 text is ASCII: one byte a character). */
export const queuedBytes = (body: unknown) => encodeQueueMessage(body).length;

/**
 * The most a change takes on a queue: as the work item that retries, replays or recovers it, which carries
 * the change and a few fields more. A change the sync takes must fit that way too, or it could not be retried.
 */
export const retryBytes = (change: AppointmentChange) =>
  queuedBytes({
    kind: 'delivery',
    connectorId: '00000000-0000-0000-0000-000000000000',
    attempt: 999_999,
    firstAttemptAt: 9_999_999_999_999,
    mode: 'recover',
    recoveryId: '00000000-0000-0000-0000-000000000000',
    change,
  } satisfies WorkItemMessage);

const tooLarge = (bytes: number) =>
  `is ${bytes.toLocaleString('en')} bytes on the queue; a change may take at most ${MAX_QUEUE_MESSAGE_BYTES.toLocaleString('en')} (64 KiB, base64, with room for its retries): shorten its subject, body or fields`;

/** Why a change cannot be queued, or undefined when it can. */
export const whyTooLarge = (change: AppointmentChange): string | undefined => {
  const bytes = retryBytes(change);
  return bytes > MAX_QUEUE_MESSAGE_BYTES ? tooLarge(bytes) : undefined;
};

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
  /** How long the message at the front of each sync queue has waited (a peek per queue; empty queues left out). */
  oldestAges(): Promise<Array<{ queue: 'changes' | 'retries'; seconds: number }>>;
  ping(): Promise<void>;
}

export function createSyncQueues(storage: Storage, names: AppConfig['queues']): SyncQueues {
  /** A queue call with its bounds; any failure is the queue being unavailable. */
  const call = async <T>(what: string, operation: (abortSignal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await boundedCall(operation, what, storage.bounds);
    } catch (error) {
      if (error instanceof DependencyError) throw error;
      throw new DependencyError('Queue storage is unavailable.', 'storage-unavailable', { cause: error });
    }
  };
  const send = async (queue: string, body: unknown, delaySeconds = 0) => {
    const text = encodeQueueMessage(body);
    // The service would refuse it (413) as if it were an outage: say what it is.
    if (text.length > MAX_QUEUE_MESSAGE_BYTES)
      throw new ChangeTooLargeError(`A message for ${queue} ${tooLarge(text.length)}.`);
    const client = await storage.queue(queue);
    const visibilityTimeout = Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
    await call(`send to ${queue}`, (abortSignal) => client.sendMessage(text, { visibilityTimeout, abortSignal }));
  };
  const queueOf = { changes: names.appointments, retries: names.appointmentRetries, recoveries: names.recoveries };
  return {
    sendChange: (change) => send(names.appointments, change),
    sendWorkItem: (item, delaySeconds) => send(names.appointmentRetries, item, delaySeconds),
    sendRecoveryPage: (page, delaySeconds) => send(names.recoveries, page, delaySeconds),
    async receivePoisoned(source, max) {
      const name = poisonQueueName(queueOf[source]);
      const poison = await storage.queue(name);
      const { receivedMessageItems } = await call(`receive from ${name}`, (abortSignal) =>
        poison.receiveMessages({ numberOfMessages: Math.min(32, max), visibilityTimeout: 300, abortSignal }),
      );
      return receivedMessageItems.map((m) => ({
        text: decodeBase64Strict(m.messageText),
        raw: m.messageText,
        remove: async () => {
          await call(`delete from ${name}`, (abortSignal) =>
            // A try that timed out may have deleted it: the retry's 404 says it is gone.
            poison.deleteMessage(m.messageId, m.popReceipt, { abortSignal }).catch((error: unknown) => {
              if (statusCodeOf(error) !== 404) throw error;
            }),
          );
        },
      }));
    },
    async oldestAges() {
      const ages = await Promise.all(
        (['changes', 'retries'] as const).map(async (queue) => {
          const client = await storage.queue(queueOf[queue]);
          const { peekedMessageItems } = await call(`peek ${queueOf[queue]}`, (abortSignal) =>
            client.peekMessages({ numberOfMessages: 1, abortSignal }),
          );
          const first = peekedMessageItems[0];
          return first ? [{ queue, seconds: Math.max(0, (Date.now() - first.insertedOn.getTime()) / 1000) }] : [];
        }),
      );
      return ages.flat();
    },
    async ping() {
      const queue = await storage.queue(names.appointments);
      await call('read the appointments queue', (abortSignal) => queue.getProperties({ abortSignal }));
    },
  };
}
