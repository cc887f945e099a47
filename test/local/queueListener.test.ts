// The stand-in's queue semantics, against Azurite: what the host's QueueProcessor does.
import { QueueServiceClient } from '@azure/storage-queue';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostSettings } from '../../src/local/hostJson';
import { QueueListener } from '../../src/local/queueListener';
import { encodeQueueMessage } from '../../src/platform/storageClients';
import { azurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { uniqueName } from '../support/testApp';

const service = () => QueueServiceClient.fromConnectionString(azurite().connectionString);
const settings: HostSettings['queues'] = {
  maxPollingIntervalMs: 200,
  visibilityTimeoutMs: 0,
  batchSize: 4,
  newBatchThreshold: 2,
  maxDequeueCount: 5,
  messageEncoding: 'base64',
  receiveVisibilityMs: 600_000,
};

const running: QueueListener[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((l) => l.stop()));
});

async function listen(
  invoke: (text: string, meta: Record<string, unknown>) => Promise<void>,
  overrides: Partial<HostSettings['queues']> = {},
) {
  const queueName = uniqueName('q');
  const logs: string[] = [];
  const listener = new QueueListener({
    queueName,
    service: service(),
    settings: { ...settings, ...overrides },
    invoke,
    log: (_level, message) => logs.push(message),
    minPollingIntervalMs: 20,
  });
  await listener.start();
  running.push(listener);
  const queue = service().getQueueClient(queueName);
  const poison = service().getQueueClient(`${queueName}-poison`);
  return { listener, queue, poison, logs, queueName };
}

const peekAll = async (q: ReturnType<ReturnType<typeof service>['getQueueClient']>) => {
  if (!(await q.exists())) return [];
  return (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
};

describe('queue listener', () => {
  it('decodes base64, passes dequeueCount and the host trigger metadata, and deletes on success', async () => {
    const calls: Array<{ text: string; meta: Record<string, unknown> }> = [];
    const { queue } = await listen(async (text, meta) => {
      calls.push({ text, meta });
    });
    await queue.sendMessage(encodeQueueMessage({ n: 1 }));
    await eventually(() => calls.length === 1);
    expect(JSON.parse(calls[0]!.text)).toEqual({ n: 1 });
    expect(calls[0]!.meta).toMatchObject({ DequeueCount: { int: 1 }, QueueTrigger: { string: '{"n":1}' } });
    expect(Object.keys(calls[0]!.meta)).toEqual(
      expect.arrayContaining(['Id', 'PopReceipt', 'InsertionTime', 'ExpirationTime', 'NextVisibleTime']),
    );
    await eventually(async () => (await queue.getProperties()).approximateMessagesCount === 0);
  });

  it('retries a failing message with a rising dequeueCount, then moves the original text to <queue>-poison after the fifth failure', async () => {
    const counts: unknown[] = [];
    const { queue, poison, logs, queueName } = await listen(async (_text, meta) => {
      counts.push((meta.DequeueCount as { int: number }).int);
      throw new Error('always fails');
    });
    const original = encodeQueueMessage({ doomed: true });
    await queue.sendMessage(original);
    await eventually(async () => (await peekAll(poison)).length === 1);
    expect(counts).toEqual([1, 2, 3, 4, 5]);
    expect(await peekAll(poison)).toEqual([original]);
    expect(await peekAll(queue)).toEqual([]);
    expect(logs).toContain(`Message has reached MaxDequeueCount of 5. Moving message to queue '${queueName}-poison'.`);
  });

  it('poisons a message that is not base64 without invoking the function', async () => {
    let invoked = 0;
    const { queue, poison } = await listen(async () => {
      invoked++;
    });
    await queue.sendMessage('{"not":"base64"}');
    await eventually(async () => (await peekAll(poison)).length === 1);
    expect(await peekAll(poison)).toEqual(['{"not":"base64"}']);
    expect(invoked).toBe(0);
  });

  it('succeeds on a later attempt and leaves nothing behind', async () => {
    let attempts = 0;
    const { queue, poison } = await listen(async () => {
      attempts++;
      if (attempts < 3) throw new Error('transient');
    });
    await queue.sendMessage(encodeQueueMessage('x'));
    await eventually(() => attempts === 3);
    await eventually(async () => (await peekAll(queue)).length === 0);
    expect(await peekAll(poison)).toEqual([]);
  });

  it('keeps a failed message invisible for the visibility timeout before the next attempt', async () => {
    const times: number[] = [];
    const { queue } = await listen(
      async () => {
        times.push(Date.now());
        if (times.length === 1) throw new Error('first attempt fails');
      },
      { visibilityTimeoutMs: 2000 },
    );
    await queue.sendMessage(encodeQueueMessage('later'));
    await eventually(() => times.length === 2, 10_000);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1800);
  });

  it('bounds concurrency at batchSize + newBatchThreshold and drains in-flight work on stop', async () => {
    let active = 0;
    let peak = 0;
    let done = 0;
    const { listener, queue } = await listen(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 300));
      active--;
      done++;
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => queue.sendMessage(encodeQueueMessage({ i }))));
    await eventually(() => active >= 4);
    expect(peak).toBeLessThanOrEqual(settings.batchSize + settings.newBatchThreshold);
    await listener.stop();
    expect(active).toBe(0); // stop() waited for every message in hand
    // and took no new ones: every message it did not finish is still on the queue, visible
    expect((await peekAll(queue)).length).toBe(20 - done);
    expect(peak).toBeGreaterThan(1);
  });
});
