// The delivery log over HTTP: list, read one, replay one.
import { z } from 'zod';
import { helpFor } from '../model/codes';
import { deliverySchema, deliveryStatuses, deliverySummarySchema } from '../model/delivery';
import { sourceAppSchema } from '../model/text';
import { redactAndTruncate } from '../platform/redact';
import { unlessMissing } from '../platform/validation';
import { getServices } from '../services';
import { defineRoute } from './route';

const params = z.object({ id: z.uuid({ error: unlessMissing('must be a delivery id (a UUID)') }) });
const query = z.strictObject({
  sourceApp: sourceAppSchema.optional().describe('case-insensitive'),
  connectorId: z.uuid().optional(),
  status: z.enum(deliveryStatuses).optional(),
  appointmentId: z.coerce.number().int().nonnegative().optional(),
  messageId: z.uuid().optional().describe('the rows of one queued change'),
  from: z.iso.datetime({ offset: true }).optional().describe('first recorded at or after'),
  to: z.iso.datetime({ offset: true }).optional().describe('first recorded before'),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
  continuationToken: z.string().max(2048).optional(),
});
const tags = ['sync'];

/**
 * The API returns the kept change text only of a message that could not be read (its row has no appointment):
 * there it is all there is to see. It adds what to do about the row's code.
 */
const publicRow = <T extends { change: string | null; code: string | null; appointmentGuid: string | null }>({
  change,
  ...row
}: T) => ({
  ...row,
  help: helpFor(row.code),
  text: change !== null && row.appointmentGuid === null ? redactAndTruncate(change, 2000) : null,
});

export const routes = [
  defineRoute({
    name: 'listDeliveries',
    method: 'GET',
    route: 'deliveries',
    role: 'Deliveries.Read',
    summary: 'The delivery log, newest first, filtered and paged',
    tags,
    query,
    responses: {
      200: {
        description: 'A page of deliveries',
        schema: z.object({ items: z.array(deliverySummarySchema), continuationToken: z.string().nullable() }),
      },
    },
    async handler({ query: q }) {
      const page = await getServices().sync.listDeliveries(
        {
          sourceApp: q.sourceApp,
          connectorId: q.connectorId,
          status: q.status,
          appointmentId: q.appointmentId,
          messageId: q.messageId,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        },
        { size: q.pageSize, token: q.continuationToken },
      );
      return {
        status: 200,
        body: {
          items: page.items.map((row) => {
            const { history: _h, ...summary } = publicRow(row);
            return summary;
          }),
          continuationToken: page.continuationToken,
        },
      };
    },
  }),
  defineRoute({
    name: 'getDelivery',
    method: 'GET',
    route: 'deliveries/{id}',
    role: 'Deliveries.Read',
    summary: 'One delivery with its attempt history',
    tags,
    params,
    responses: {
      200: { description: 'The delivery', schema: deliverySchema },
      404: { description: 'No such delivery' },
    },
    async handler({ params }) {
      return { status: 200, body: publicRow(await getServices().sync.getDelivery(params.id)) };
    },
  }),
  defineRoute({
    name: 'replayDelivery',
    audit: { operation: 'delivery.replay', resourceType: 'delivery' },
    method: 'POST',
    route: 'deliveries/{id}/replay',
    role: 'Deliveries.Replay',
    summary: 'Send that change to that connector again (harmless if it was delivered)',
    tags,
    params,
    responses: {
      202: {
        description: 'Replay queued: the row says so (retrying, sync.replay-queued) until the replay settles it',
        schema: deliverySchema,
        headers: { location: 'URL of the delivery: GET it to see how the replay ended' },
      },
      404: { description: 'No such delivery' },
      409: { description: 'Not replayable: the message was malformed or too large to keep (not-replayable)' },
    },
    async handler({ params, request, call, log }) {
      const row = await getServices().sync.replay(params.id, call, log);
      const location = new URL(`/api/deliveries/${row.id}`, request.url).toString();
      return { status: 202, body: publicRow(row), headers: { location } };
    },
  }),
];
