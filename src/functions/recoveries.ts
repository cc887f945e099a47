// Recover and resync a connector in bulk over HTTP, and their progress (the queue that works them off is in
// triggers.ts).
import { z } from 'zod';
import { recoverRequestSchema, recoverySchema, resyncRequestSchema } from '../model/recovery';
import { unlessMissing } from '../platform/validation';
import { getServices } from '../services';
import { defineRoute } from './route';

const connectorParams = z.object({ id: z.uuid({ error: unlessMissing('must be a connector id (a UUID)') }) });
const recoveryParams = z.object({ id: z.uuid({ error: unlessMissing('must be a recovery id (a UUID)') }) });
const tags = ['sync'];
const MAX_BODY = 4 * 1024;

const accepted = {
  description: 'Queued; follow its progress at the Location',
  schema: recoverySchema,
  headers: { location: 'URL of the recovery (GET /api/recoveries/{id})' },
};

const running = {
  description:
    'A recover or resync of this connector is running (recovery-running): its Location names it; one runs at a time',
  headers: { location: 'URL of the running recovery' },
};

const locationOf = (id: string, requestUrl: string) => new URL(`/api/recoveries/${id}`, requestUrl).toString();

export const routes = [
  defineRoute({
    name: 'recoverConnector',
    audit: { operation: 'connector.recover', resourceType: 'connector' },
    method: 'POST',
    route: 'connectors/{id}/recover',
    role: 'Deliveries.Replay',
    summary: 'Send the connector again every change its delivery log shows failed (or other statuses) in a time range',
    description:
      'Answers at once; the rows are read and queued in pages off a queue. Ordering holds: a revision older than one delivered meanwhile is not sent (it counts as skipped).',
    tags,
    params: connectorParams,
    body: {
      schema: recoverRequestSchema,
      maxBytes: MAX_BODY,
      example: { since: '2026-11-28T00:00:00Z', statuses: ['failed'] },
    },
    responses: { 202: accepted, 404: { description: 'No such connector' }, 409: running },
    async handler({ params, body, request, call, log }) {
      const recovery = await getServices().sync.recover(params.id, body, call, log);
      return { status: 202, body: recovery, headers: { location: locationOf(recovery.id, request.url) } };
    },
  }),
  defineRoute({
    name: 'resyncConnector',
    audit: { operation: 'connector.resync', resourceType: 'connector' },
    method: 'POST',
    route: 'connectors/{id}/resync',
    role: 'Deliveries.Replay',
    summary: 'Send the connector the latest revision of every appointment of its source app (and source type)',
    description:
      'For a back office added to a source app that already has appointments, or restored from a backup. Sends even what was delivered before (the back office answers duplicate for what it has). Deleted appointments are left out unless includeDeleted.',
    tags,
    params: connectorParams,
    body: { schema: resyncRequestSchema, maxBytes: MAX_BODY, example: { since: '2026-01-01T00:00:00Z' } },
    responses: { 202: accepted, 404: { description: 'No such connector' }, 409: running },
    async handler({ params, body, request, call, log }) {
      const recovery = await getServices().sync.resync(params.id, body, call, log);
      return { status: 202, body: recovery, headers: { location: locationOf(recovery.id, request.url) } };
    },
  }),
  defineRoute({
    name: 'getRecovery',
    method: 'GET',
    route: 'recoveries/{id}',
    role: 'Deliveries.Read',
    summary: 'The progress of a recover or resync',
    tags,
    params: recoveryParams,
    responses: {
      200: { description: 'Its progress; done when every change it queued has settled', schema: recoverySchema },
      404: { description: 'No such recovery' },
    },
    async handler({ params }) {
      return { status: 200, body: await getServices().sync.getRecovery(params.id) };
    },
  }),
];
