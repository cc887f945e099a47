// Recoveries: sending a connector again, in bulk, what its delivery log says failed (recover), or the latest
// revision of every appointment of its source app (resync). Asked for over HTTP, worked off a queue in pages.
import { z } from 'zod';
import { unlessMissing } from '../platform/validation';
import { actorSchema } from './audit';
import { deliveryStatuses } from './delivery';

const moment = z.iso.datetime({
  offset: true,
  error: unlessMissing('must be an ISO 8601 date and time with an offset'),
});

/** The statuses a recover may pick; what the sync still works on (retrying) is not among them. */
const recoverableStatuses = deliveryStatuses.filter((s) => s !== 'retrying' && s !== 'no-connector');

export const recoverRequestSchema = z
  .strictObject({
    since: moment.describe('rows first recorded at or after'),
    until: moment.optional().describe('rows first recorded before (default: now)'),
    statuses: z
      .array(z.enum(recoverableStatuses))
      .min(1)
      .max(recoverableStatuses.length)
      .default(['failed'])
      .describe('the rows to send again (default: failed)'),
  })
  .refine((r) => !r.until || Date.parse(r.until) > Date.parse(r.since), {
    message: 'must be after since',
    path: ['until'],
  })
  .meta({ title: 'RecoverRequest' });
export type RecoverRequest = z.output<typeof recoverRequestSchema>;

export const resyncRequestSchema = z
  .strictObject({
    since: moment.optional().describe('appointments changed at or after (default: all)'),
    includeDeleted: z
      .boolean()
      .default(false)
      .describe('also send the delete of appointments that were deleted (default: leave them out)'),
  })
  .meta({ title: 'ResyncRequest' });
export type ResyncRequest = z.output<typeof resyncRequestSchema>;

export const recoveryKinds = ['recover', 'resync'] as const;
export type RecoveryKind = (typeof recoveryKinds)[number];

/** A recovery as stored: what was asked, by whom, and how far reading its source got. */
export const recoveryHeaderSchema = z.object({
  id: z.uuid(),
  kind: z.enum(recoveryKinds),
  connectorId: z.uuid(),
  criteria: z.union([recoverRequestSchema, resyncRequestSchema]),
  requestedBy: actorSchema,
  correlationId: z.string().nullable(),
  createdAt: z.iso.datetime(),
  /** Pages of the source read and queued so far; the source is read through once it is complete. */
  pagesDone: z.number().int().nonnegative(),
  /** Changes those pages queued. */
  queued: z.number().int().nonnegative(),
  scanComplete: z.boolean(),
  completedScanAt: z.iso.datetime().nullable(),
});
export type RecoveryHeader = z.output<typeof recoveryHeaderSchema>;

export const recoverySchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(recoveryKinds),
    connectorId: z.uuid(),
    criteria: z.record(z.string(), z.unknown()).describe('what was asked for'),
    requestedBy: actorSchema,
    createdAt: z.iso.datetime(),
    scanComplete: z.boolean().describe('every matching row (or appointment) has been found and queued'),
    queued: z.number().int().describe('changes queued to the connector so far'),
    sent: z.number().int().describe('of those, how many were sent and answered for good (delivered or failed)'),
    delivered: z.number().int().describe('delivered, or found delivered already (duplicate)'),
    failed: z.number().int(),
    skipped: z
      .number()
      .int()
      .describe('not sent: a newer revision was delivered meanwhile (stale), or the connector does not take it'),
    pending: z.number().int().describe('queued and not settled yet (waiting, retrying or deferred)'),
    done: z.boolean(),
  })
  .meta({ title: 'Recovery' });
export type Recovery = z.output<typeof recoverySchema>;

/** The recoveries queue's message: read one page of the source and queue its changes. */
export const recoveryPageSchema = z.object({
  kind: z.literal('recovery-page'),
  recoveryId: z.uuid(),
  page: z.number().int().nonnegative(),
  token: z.string().nullable(),
  /** How often the poison sweep has put this page back after the host gave up on it. */
  requeued: z.number().int().nonnegative().default(0),
});
export type RecoveryPage = z.output<typeof recoveryPageSchema>;
