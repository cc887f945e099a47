// Connector health over HTTP: one connector's, or a page of a source app's. What each field means is in the
// schema (model/health.ts) and docs/monitoring.md.
import { z } from 'zod';
import { connectorListQuerySchema } from '../model/connector';
import { connectorHealthSchema } from '../model/health';
import { unlessMissing } from '../platform/validation';
import { getServices } from '../services';
import { defineRoute } from './route';

const tags = ['operations'];
const role = 'Deliveries.Read' as const;

const example = {
  connectorId: '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11',
  name: 'Cronus US',
  sourceApp: 'BCCRONUSUS',
  status: 'failing',
  lastSuccessAt: '2026-12-06T08:12:40.000Z',
  lastFailure: {
    at: '2026-12-06T09:01:03.000Z',
    code: 'auth.invalid-client-secret',
    message: 'AADSTS7000215: Invalid client secret provided.',
    help: 'create a new client secret in the app registration and PUT the connector with its value (not its ID)',
  },
  last24h: { delivered: 1412, failed: 3, retried: 17 },
  retrying: 2,
  poisoned: 0,
  credentialStatus: 'expired',
  lastTest: { at: '2026-12-06T09:02:11.000Z', ok: false, code: 'auth.invalid-client-secret' },
};

export const routes = [
  defineRoute({
    name: 'getConnectorHealth',
    method: 'GET',
    route: 'connectors/{id}/health',
    role,
    summary: "A connector's health: status, last success and failure with what to do, the last 24 hours",
    tags,
    params: z.object({ id: z.uuid({ error: unlessMissing('must be a connector id (a UUID)') }) }),
    responses: {
      200: { description: 'Its health', schema: connectorHealthSchema, example },
      404: { description: 'No such connector' },
    },
    async handler({ params }) {
      return { status: 200, body: await getServices().health.get(params.id) };
    },
  }),
  defineRoute({
    name: 'listConnectorHealth',
    method: 'GET',
    route: 'connector-health',
    role,
    summary: 'The health of every connector, or of those of one source app, paged',
    tags,
    query: connectorListQuerySchema.omit({ backOffice: true }),
    responses: {
      200: {
        description: 'A page of connector health',
        schema: z
          .object({ items: z.array(connectorHealthSchema), continuationToken: z.string().nullable() })
          .meta({ title: 'ConnectorHealthList' }),
      },
    },
    async handler({ query }) {
      return {
        status: 200,
        body: await getServices().health.list(
          { sourceApp: query.sourceApp },
          { size: query.pageSize, token: query.continuationToken },
        ),
      };
    },
  }),
];
