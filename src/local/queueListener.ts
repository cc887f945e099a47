// The host's storage queue listener (WebJobs QueueListener/QueueProcessor) for one queue-triggered function:
// batches, base64 decoding, dequeueCount, visibility timeout on failure, poison after maxDequeueCount,
// randomized exponential back-off while idle, bounded concurrency and a graceful drain.
import type { QueueClient, QueueServiceClient, ReceivedMessageItem } from '@azure/storage-queue';
import { decodeBase64Strict } from '../platform/storageClients';
import type { HostSettings } from './hostJson';

export interface QueueListenerOptions {
  queueName: string;
  service: QueueServiceClient;
  settings: HostSettings['queues'];
  /** Runs the function; a rejection is a failed invocation. */
  invoke(text: string, triggerMetadata: Record<string, unknown>): Promise<void>;
  log(level: 'information' | 'warning' | 'error', message: string): void;
  /** Lower bound of the idle back-off (the host starts at 100 ms). */
  minPollingIntervalMs?: number;
}

/** How long one receive may wait for the store's answer. */
const RECEIVE_TIMEOUT_MS = 30_000;

export class QueueListener {
  readonly poisonQueueName: string | undefined;
  #queue: QueueClient;
  #poison: QueueClient | undefined;
  #inFlight = new Set<Promise<void>>();
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #receiving: AbortController | undefined;
  #delayMs = 0;

  constructor(private readonly options: QueueListenerOptions) {
    this.#queue = options.service.getQueueClient(options.queueName);
    // No poison queue for a poison queue, nor when the name would exceed 63 characters (QueueListener.cs).
    const poison = `${options.queueName}-poison`;
    this.poisonQueueName = options.queueName.endsWith('-poison') || poison.length > 63 ? undefined : poison;
    this.#poison = this.poisonQueueName ? options.service.getQueueClient(this.poisonQueueName) : undefined;
  }

  async start(): Promise<void> {
    await this.#queue.createIfNotExists();
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops fetching, then waits for the messages in hand to finish (up to timeoutMs). */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.#running = false;
    this.#wake?.();
    this.#receiving?.abort(); // a receive that hangs on a frozen store must not hold the stop
    await this.#loop;
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  async #run(): Promise<void> {
    const { batchSize, newBatchThreshold, maxPollingIntervalMs } = this.options.settings;
    const minDelay = this.options.minPollingIntervalMs ?? 100;
    while (this.#running) {
      if (this.#inFlight.size > newBatchThreshold) {
        await Promise.race([...this.#inFlight]);
        continue;
      }
      let messages: ReceivedMessageItem[] = [];
      try {
        const room = Math.min(batchSize, batchSize + newBatchThreshold - this.#inFlight.size);
        this.#receiving = new AbortController();
        const response = await this.#queue.receiveMessages({
          numberOfMessages: Math.max(1, room),
          visibilityTimeout: Math.round(this.options.settings.receiveVisibilityMs / 1000),
          // The host gives up on a receive that gets no answer; so does the stand-in (and at once on stop).
          abortSignal: AbortSignal.any([this.#receiving.signal, AbortSignal.timeout(RECEIVE_TIMEOUT_MS)]),
        });
        messages = response.receivedMessageItems;
      } catch (error) {
        if (this.#running)
          this.options.log(
            'warning',
            `Queue '${this.options.queueName}': receive failed (${(error as Error).message}); backing off.`,
          );
      } finally {
        this.#receiving = undefined;
      }
      for (const message of messages) this.#track(this.#process(message));
      if (messages.length > 0) {
        this.#delayMs = 0;
        continue;
      }
      // Randomized exponential back-off while idle (RandomizedExponentialBackoffStrategy).
      this.#delayMs = Math.min(maxPollingIntervalMs, Math.max(minDelay, this.#delayMs * 2));
      await this.#sleep(this.#delayMs * (0.8 + Math.random() * 0.2));
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #process(message: ReceivedMessageItem): Promise<void> {
    const { maxDequeueCount, visibilityTimeoutMs, messageEncoding, receiveVisibilityMs } = this.options.settings;
    const handle = { id: message.messageId, popReceipt: message.popReceipt };
    if (message.dequeueCount > maxDequeueCount) {
      await this.#toPoison(message, handle.popReceipt);
      return;
    }
    // Keep the message invisible while a long invocation runs, as the host's renewal timer does.
    const renew = setInterval(() => {
      this.#queue
        .updateMessage(handle.id, handle.popReceipt, undefined, Math.round(receiveVisibilityMs / 1000))
        .then((r) => {
          if (r.popReceipt) handle.popReceipt = r.popReceipt;
        })
        .catch(() => undefined);
    }, receiveVisibilityMs / 2);
    renew.unref();
    let failure: unknown;
    try {
      const text = messageEncoding === 'base64' ? decodeBase64Strict(message.messageText) : message.messageText;
      if (text === null) {
        throw new Error(`The input is not a valid Base-64 string (message ${message.messageId}).`);
      }
      await this.options.invoke(text, {
        DequeueCount: { int: message.dequeueCount },
        Id: { string: message.messageId },
        PopReceipt: { string: handle.popReceipt },
        InsertionTime: { string: message.insertedOn.toISOString() },
        ExpirationTime: { string: message.expiresOn.toISOString() },
        NextVisibleTime: { string: message.nextVisibleOn.toISOString() },
        QueueTrigger: { string: text },
      });
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(renew);
    }
    try {
      if (failure === undefined) {
        await this.#queue.deleteMessage(handle.id, handle.popReceipt);
      } else if (message.dequeueCount >= maxDequeueCount) {
        await this.#toPoison(message, handle.popReceipt);
      } else {
        await this.#queue.updateMessage(
          handle.id,
          handle.popReceipt,
          undefined,
          Math.round(visibilityTimeoutMs / 1000),
        );
      }
    } catch (error) {
      // A lost pop receipt or a vanished message: the host ignores it; the message reappears or is gone.
      this.options.log(
        'warning',
        `Queue '${this.options.queueName}': could not settle message ${handle.id}: ${(error as Error).message}`,
      );
    }
  }

  async #toPoison(message: ReceivedMessageItem, popReceipt: string): Promise<void> {
    if (!this.#poison) return; // left invisible, as the host does when no poison queue is possible
    this.options.log(
      'warning',
      `Message has reached MaxDequeueCount of ${this.options.settings.maxDequeueCount}. Moving message to queue '${this.poisonQueueName}'.`,
    );
    await this.#poison.createIfNotExists();
    await this.#poison.sendMessage(message.messageText); // the original text, still encoded
    await this.#queue.deleteMessage(message.messageId, popReceipt);
  }
}
