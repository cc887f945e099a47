// The delivery log as the API shows it: one row per (change, connector), plus rows for changes that reached
// no connector or could not be read.
import { z } from 'zod';

export const deliveryStatuses = [
  'delivered',
  'duplicate',
  'skipped-disabled',
  'skipped-action',
  'stale',
  'no-connector',
  'retrying',
  'failed',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const attemptRecordSchema = z.object({
  at: z.string(),
  attempt: z.number(),
  outcome: z.string(),
  status: z.number().nullable(),
  code: z.string(),
  durationMs: z.number(),
  message: z.string().optional(),
});
export type AttemptRecord = z.output<typeof attemptRecordSchema>;

export const deliverySchema = z
  .object({
    id: z.string(),
    messageId: z.string().nullable(),
    /** The trace of the producer's request (W3C trace id): every log line of the change carries it too. */
    traceId: z.string().nullable(),
    connectorId: z.string().nullable(),
    connectorName: z.string().nullable(),
    sourceApp: z.string().nullable(),
    sourceType: z.string().nullable(),
    appointmentId: z.number().nullable(),
    appointmentGuid: z.string().nullable(),
    revision: z.number().nullable(),
    databaseAction: z.string().nullable(),
    status: z.enum(deliveryStatuses),
    attempts: z.number(),
    lastHttpStatus: z.number().nullable(),
    code: z.string().nullable(),
    message: z.string().nullable(),
    durationMs: z.number().nullable(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    history: z.array(attemptRecordSchema),
  })
  .meta({ title: 'Delivery' });
export type Delivery = z.output<typeof deliverySchema>;

export const deliverySummarySchema = deliverySchema.omit({ history: true }).meta({ title: 'DeliverySummary' });

/** Codes the sync itself gives rows, besides the back-office outcome codes. */
export const syncCodes = {
  'sync.sending-disabled': 'the connector has sendAppointments false',
  'sync.action-not-sent': "the change's action is not in the connector's databaseActions",
  'sync.stale':
    'a newer revision of the appointment was already sent or is in flight, or this revision was sent before',
  'sync.no-connector': "no connector has the change's source app (and source type)",
  'sync.waiting-for-older-revision': 'an older revision of the appointment is still in flight; tried again shortly',
  'sync.deferred': "the principal's request budget is spent for now; sent when it frees up (not an attempt)",
  'sync.malformed': 'the message is not a valid change (the failing fields are named); never retried',
  'sync.poisoned': 'processing crashed until the host moved the message to the poison queue',
  'sync.connector-deleted': 'the connector was deleted before a retry',
  'sync.replay-queued': 'a replay was asked for and is queued',
  'sync.too-large':
    'the change was queued by a producer larger than a retry can carry (64 KiB with room for its retries); it is not retried',
} as const;
