// A delivery of one change to one connector, queued for a retry or a replay (the retry queue's message).
import { z } from 'zod';
import { appointmentChangeSchema } from './message';

export const workItemSchema = z.strictObject({
  kind: z.literal('delivery'),
  connectorId: z.uuid(),
  /** Attempts made so far; the next one is attempt + 1. */
  attempt: z.number().int().min(0),
  firstAttemptAt: z.number().int(),
  /** A replay may re-send the revision that was last delivered (the back office answers duplicate). */
  replay: z.boolean().default(false),
  change: appointmentChangeSchema,
});

export type WorkItem = z.output<typeof workItemSchema>;
