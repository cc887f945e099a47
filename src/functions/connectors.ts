// HTTP functions for connectors. Each declaration: route, role, schemas, docs and handler together.
import { z } from 'zod';
import {
  connectorInputSchema,
  connectorListQuerySchema,
  connectorListSchema,
  connectorSchema,
} from '../model/connector';
import { diagnosisSchema } from '../model/diagnosis';
import { unlessMissing } from '../platform/validation';
import { getServices } from '../services';
import { ifMatchOf } from './http';
import { defineRoute } from './route';

const params = z.object({ id: z.uuid({ error: unlessMissing('must be a connector id (a UUID)') }) });
const MAX_BODY = 64 * 1024;
const tags = ['connectors'];
const role = 'Connectors.Manage' as const;

const example = {
  name: 'Cronus US',
  description: 'Business Central online, production',
  sourceApp: 'BCCRONUSUS',
  sourceType: null,
  backOffice: 'bc-online',
  apiType: 'rest',
  sendAppointments: true,
  databaseActions: ['I', 'U', 'D'],
  webServiceUri:
    'https://api.businesscentral.dynamics.com/v2.0/00000000-0000-0000-0000-000000000000/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(00000000-0000-0000-0000-000000000001)/appointments',
  login: '00000000-0000-0000-0000-000000000000',
  password: 'client_id=<application id>&client_secret=<client secret value>',
  secretExpiresAt: '2028-06-30T00:00:00Z',
};
const publicExample = {
  id: '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11',
  ...example,
  password: undefined,
  secretExpiresAt: '2028-06-30T00:00:00.000Z',
  authType: 'oauth2-client-credentials',
  hasPassword: true,
  credentialStatus: 'ok',
  createdAt: '2026-11-28T09:00:00.000Z',
  updatedAt: '2026-11-28T09:00:00.000Z',
};
const etagHeader = { etag: 'The version of the connector; send it back in If-Match' };
const createdSchema = connectorSchema
  .extend({
    appointmentsKnown: z
      .number()
      .int()
      .describe('appointments of the source app the service knows already: POST .../resync sends them'),
  })
  .meta({ title: 'CreatedConnector' });

export const routes = [
  defineRoute({
    name: 'createConnector',
    audit: { operation: 'connector.create', resourceType: 'connector' },
    method: 'POST',
    route: 'connectors',
    role,
    summary: 'Create a connector',
    description: 'Credentials go to Key Vault; the password is write-only and never returned.',
    tags,
    body: { schema: connectorInputSchema, maxBytes: MAX_BODY, example, secrets: (b) => [b.password] },
    responses: {
      201: {
        description: 'Created',
        schema: createdSchema,
        example: { ...publicExample, appointmentsKnown: 0 },
        headers: { location: 'URL of the new connector', ...etagHeader },
      },
      503: { description: 'Key Vault or storage is unavailable; nothing was half-saved' },
    },
    async handler({ body, request, call, log }) {
      const { value, etag, appointmentsKnown } = await getServices().connectors.create(body, call, log);
      const location = new URL(`/api/connectors/${value.id}`, request.url).toString();
      return { status: 201, body: { ...value, appointmentsKnown }, headers: { location, etag } };
    },
  }),
  defineRoute({
    name: 'listConnectors',
    method: 'GET',
    route: 'connectors',
    role,
    summary: 'List connectors, optionally of one source app or back office',
    tags,
    query: connectorListQuerySchema,
    responses: { 200: { description: 'A page of connectors', schema: connectorListSchema } },
    async handler({ query }) {
      const page = await getServices().connectors.list(
        { sourceApp: query.sourceApp, backOffice: query.backOffice },
        { size: query.pageSize, token: query.continuationToken },
      );
      return { status: 200, body: page };
    },
  }),
  defineRoute({
    name: 'getConnector',
    method: 'GET',
    route: 'connectors/{id}',
    role,
    summary: 'Read a connector',
    tags,
    params,
    responses: {
      200: { description: 'The connector', schema: connectorSchema, example: publicExample, headers: etagHeader },
      404: { description: 'No such connector' },
    },
    async handler({ params }) {
      const { value, etag } = await getServices().connectors.get(params.id);
      return { status: 200, body: value, headers: { etag } };
    },
  }),
  defineRoute({
    name: 'replaceConnector',
    audit: { operation: 'connector.replace', resourceType: 'connector' },
    method: 'PUT',
    route: 'connectors/{id}',
    role,
    summary: 'Replace a connector (omit password to keep it, null to clear it)',
    description: 'A body read with GET can be sent back: its read-only properties are ignored.',
    tags,
    params,
    body: { schema: connectorInputSchema, maxBytes: MAX_BODY, example, secrets: (b) => [b.password] },
    responses: {
      200: { description: 'Replaced', schema: connectorSchema, headers: etagHeader },
      404: { description: 'No such connector' },
      412: { description: 'If-Match does not match the current ETag' },
      503: { description: 'Key Vault or storage is unavailable' },
    },
    async handler({ params, body, request, call, log }) {
      const { value, etag } = await getServices().connectors.replace(params.id, body, ifMatchOf(request), call, log);
      return { status: 200, body: value, headers: { etag } };
    },
  }),
  defineRoute({
    name: 'deleteConnector',
    audit: { operation: 'connector.delete', resourceType: 'connector' },
    method: 'DELETE',
    route: 'connectors/{id}',
    role,
    summary: 'Delete a connector and its secret',
    description: 'Without If-Match the delete is unconditional.',
    tags,
    params,
    responses: {
      204: { description: 'Deleted' },
      404: { description: 'No such connector' },
      412: { description: 'If-Match does not match the current ETag' },
      503: { description: 'Key Vault or storage is unavailable' },
    },
    async handler({ params, request, call, log }) {
      await getServices().connectors.remove(params.id, ifMatchOf(request), call, log);
      return { status: 204 };
    },
  }),
  defineRoute({
    name: 'testConnector',
    audit: { operation: 'connector.test', resourceType: 'connector' },
    method: 'POST',
    route: 'connectors/{id}/test',
    role,
    summary:
      'Test a connector: credentials, token (OAuth), one harmless request (GET $top=1, the SOAP WSDL; for a webhook only a TCP and TLS connection)',
    tags,
    params,
    responses: {
      200: {
        description: 'The diagnosis (ok or not); never contains a secret',
        schema: diagnosisSchema,
        example: {
          ok: false,
          stage: 'token',
          status: null,
          code: 'auth.invalid-client-secret',
          message: 'AADSTS7000215: Invalid client secret provided.',
          help: 'create a new client secret in the app registration and PUT the connector with its value (not its ID)',
          durationMs: 182,
        },
      },
      404: { description: 'No such connector' },
    },
    async handler({ params, call, log }) {
      return { status: 200, body: await getServices().connectors.test(params.id, call, log) };
    },
  }),
];
