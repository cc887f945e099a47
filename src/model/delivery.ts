// The delivery log as the API shows it: one row per (change, connector), plus rows for changes that reached
// no connector or could not be read.
import { z } from 'zod';
import type { CodeEntry } from './codeEntry';

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

/** A row as the delivery log keeps it. */
export const deliveryRowSchema = z.object({
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
  /** The instance that wrote the row last (a host's port locally): which instance did the work. */
  instance: z.string().nullable(),
  history: z.array(attemptRecordSchema),
});
export type Delivery = z.output<typeof deliveryRowSchema>;

/** A row as the API shows it: with what to do about its code. */
export const deliverySchema = deliveryRowSchema
  .extend({
    help: z
      .string()
      .nullable()
      .describe("what to do about the row's code (the code catalogue's help); null for a row without a code"),
    text: z
      .string()
      .nullable()
      .describe(
        'for a message that could not be read (sync.malformed, sync.poisoned): the message as it was queued, redacted and cut to 2,000 characters; null otherwise',
      ),
  })
  .meta({ title: 'Delivery' });

export const deliverySummarySchema = deliverySchema.omit({ history: true }).meta({ title: 'DeliverySummary' });

/** Codes the sync itself gives rows, besides the back-office outcome codes: meaning and what to do. */
export const syncCodes = {
  'sync.sending-disabled': {
    meaning: 'the connector has sendAppointments false',
    help: 'PUT the connector with sendAppointments true if it should receive changes',
  },
  'sync.action-not-sent': {
    meaning: "the change's action is not in the connector's databaseActions",
    help: "nothing, or add the action to the connector's databaseActions",
  },
  'sync.stale': {
    meaning: 'a newer revision of the appointment was sent or is in flight, or this revision was sent before',
    help: 'nothing: the newer revision carries the change',
  },
  'sync.no-connector': {
    meaning: "no connector has the change's source app (and source type)",
    help: "create a connector for the source app, or fix the producer's source app code; then recover",
  },
  'sync.waiting-for-older-revision': {
    meaning: 'an older revision of the appointment is still in flight; tried again in 2 s',
    help: 'nothing: sent once the older revision settles',
  },
  'sync.deferred': {
    meaning: "the principal's request budget is spent for now; sent when it frees up (not an attempt)",
    help: "nothing; if it lasts, raise the connector's request budget or spread the load over more principals",
  },
  'sync.malformed': {
    meaning: 'the message is not a valid change (the failing fields are named); never retried',
    help: 'fix the producer so it sends the fields the message names',
  },
  'sync.poisoned': {
    meaning: 'processing crashed until the host moved the message to the poison queue; retried on the schedule',
    help: 'nothing at first: the sweep retries it; if it stays, report it with the delivery id',
  },
  'sync.connector-deleted': {
    meaning: 'the connector was deleted before a retry',
    help: 'nothing, or create the connector again and recover',
  },
  'sync.replay-queued': { meaning: 'a replay was asked for and is queued', help: 'nothing: wait for its outcome' },
  'sync.too-large': {
    meaning:
      'a producer queued a change that fits one queue message but not what a retry adds (64 KiB); it is not retried',
    help: 'send smaller changes (fewer resources or shorter texts) through POST /api/appointments',
  },
} as const satisfies Record<string, CodeEntry>;
