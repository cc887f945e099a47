// A delivery of one change to one connector, sent through the retry queue: a retry, a replay, a recovery or a
// resync, or a change the principal's budget deferred.
import { z } from 'zod';
import { appointmentChangeSchema } from './appointmentChange';

export const workItemModes = ['retry', 'replay', 'recover', 'resync'] as const;
export type WorkItemMode = (typeof workItemModes)[number];

export const workItemSchema = z
  .strictObject({
    kind: z.literal('delivery'),
    connectorId: z.uuid(),
    /** Attempts made so far; the next one is attempt + 1. */
    attempt: z.number().int().min(0),
    firstAttemptAt: z.number().int(),
    /** When the change entered the service's queue (the first attempt's time for items from before this field). */
    enqueuedAt: z.number().int().optional(),
    /** replay and resync may send the revision last delivered again (the back office answers duplicate). */
    mode: z.enum(workItemModes).optional(),
    /** Before modes existed: `replay: true`. */
    replay: z.boolean().optional(),
    /** The recovery (recover or resync) this delivery counts towards. */
    recoveryId: z.uuid().optional(),
    change: appointmentChangeSchema,
  })
  .transform(({ replay, mode, ...item }) => ({ ...item, mode: mode ?? (replay ? 'replay' : 'retry') }));

export type WorkItem = z.output<typeof workItemSchema>;
export type WorkItemMessage = z.input<typeof workItemSchema>;

/** Whether this kind of delivery may send the revision the back office already has. */
export const mayResendDelivered = (mode: WorkItemMode): boolean => mode === 'replay' || mode === 'resync';
