// The parts of host.json the stand-in honours, with the host's defaults (extension 5.x).
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const timeSpan = z
  .string()
  .regex(/^(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$/, 'must be a TimeSpan like 00:00:30')
  .transform((s) => {
    const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(s)!;
    return ((Number(m[1] ?? 0) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60_000 + Number(m[4]) * 1000;
  });

const hostJsonSchema = z.object({
  version: z.literal('2.0'),
  extensions: z
    .object({
      http: z
        .object({ routePrefix: z.string().default('api') })
        .partial()
        .default({}),
      queues: z
        .object({
          maxPollingInterval: timeSpan,
          visibilityTimeout: timeSpan,
          batchSize: z.number().int().min(1).max(32),
          newBatchThreshold: z.number().int().min(0),
          maxDequeueCount: z.number().int().min(1),
          messageEncoding: z.enum(['base64', 'none']),
        })
        .partial()
        .default({}),
    })
    .partial()
    .default({}),
});

export interface HostSettings {
  routePrefix: string;
  queues: {
    maxPollingIntervalMs: number;
    visibilityTimeoutMs: number;
    batchSize: number;
    newBatchThreshold: number;
    maxDequeueCount: number;
    messageEncoding: 'base64' | 'none';
    /**
     * How long a received message stays hidden while its invocation runs (renewed): the host's 10 minutes.
     * Not a host.json setting; tests that kill an instance shorten it.
     */
    receiveVisibilityMs: number;
  };
}

export function readHostJson(path: string): HostSettings {
  const parsed = hostJsonSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`host.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const q = parsed.data.extensions.queues ?? {};
  const batchSize = q.batchSize ?? 16;
  return {
    routePrefix: (parsed.data.extensions.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    queues: {
      maxPollingIntervalMs: q.maxPollingInterval ?? 60_000,
      visibilityTimeoutMs: q.visibilityTimeout ?? 0,
      batchSize,
      // The host's default is batchSize/2 x processor count; locally one "processor" keeps it predictable.
      newBatchThreshold: q.newBatchThreshold ?? Math.floor(batchSize / 2),
      maxDequeueCount: q.maxDequeueCount ?? 5,
      messageEncoding: q.messageEncoding ?? 'base64',
      receiveVisibilityMs: 600_000,
    },
  };
}
