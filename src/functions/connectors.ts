// HTTP adapters for connectors: parse, call the service, map to HTTP. No storage or Key Vault here.
import { z } from 'zod';
import { diagnosisSchema } from '../backOffice/diagnosis';
import {
  connectorInputSchema,
  connectorListQuerySchema,
  connectorListSchema,
  connectorSchema,
} from '../connectors/model';
import type { RouteDoc } from '../platform/openapi';
import { getServices } from '../services';
import { httpEndpoint, ifMatchOf, json, parseWith, readJsonBody, readQuery } from './http';

const idSchema = z.object({ id: z.uuid({ error: 'must be a connector id (a UUID)' }) });
const MAX_BODY = 64 * 1024;

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
};
const publicExample = {
  id: '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11',
  ...example,
  password: undefined,
  authType: 'oauth2-client-credentials',
  hasPassword: true,
  createdAt: '2026-11-28T09:00:00.000Z',
  updatedAt: '2026-11-28T09:00:00.000Z',
};
const etagHeader = { etag: 'The version of the connector; send it back in If-Match' };
const tags = ['connectors'];

export const docs: Record<string, RouteDoc> = {
  createConnector: {
    summary: 'Create a connector',
    description: 'Credentials go to Key Vault; the password is write-only and never returned.',
    tags,
    body: connectorInputSchema,
    bodyExample: example,
    responses: {
      201: {
        description: 'Created',
        schema: connectorSchema,
        example: publicExample,
        headers: { location: 'URL of the new connector', ...etagHeader },
      },
      400: { description: 'Invalid connector (field errors in `errors`)' },
    },
  },
  listConnectors: {
    summary: 'List connectors, optionally of one source app or back office',
    tags,
    query: connectorListQuerySchema,
    responses: { 200: { description: 'A page of connectors', schema: connectorListSchema } },
  },
  getConnector: {
    summary: 'Read a connector',
    tags,
    responses: {
      200: { description: 'The connector', schema: connectorSchema, example: publicExample, headers: etagHeader },
      404: { description: 'No such connector' },
    },
  },
  replaceConnector: {
    summary: 'Replace a connector (omit password to keep it, null to clear it)',
    tags,
    body: connectorInputSchema,
    bodyExample: example,
    responses: {
      200: { description: 'Replaced', schema: connectorSchema, headers: etagHeader },
      404: { description: 'No such connector' },
      412: { description: 'If-Match does not match the current ETag' },
    },
  },
  testConnector: {
    summary:
      'Test a connector: credentials, token (OAuth), one harmless request (GET $top=1, the SOAP WSDL; none for a webhook)',
    tags,
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
          durationMs: 182,
        },
      },
      404: { description: 'No such connector' },
    },
  },
  deleteConnector: {
    summary: 'Delete a connector and its secret',
    tags,
    responses: {
      204: { description: 'Deleted' },
      404: { description: 'No such connector' },
      412: { description: 'If-Match does not match the current ETag' },
    },
  },
};

export const createConnector = httpEndpoint(async ({ request, log }) => {
  const input = await readJsonBody(request, connectorInputSchema, MAX_BODY);
  const { value, etag } = await getServices().connectors.create(input, log);
  const location = new URL(`/api/connectors/${value.id}`, request.url).toString();
  return json(201, value, { location, etag });
});

export const getConnector = httpEndpoint(async ({ request }) => {
  const { id } = parseWith(idSchema, request.params, 'path', ['path']);
  const { value, etag } = await getServices().connectors.get(id);
  return json(200, value, { etag });
});

export const listConnectors = httpEndpoint(async ({ request }) => {
  const query = readQuery(request, connectorListQuerySchema);
  const page = await getServices().connectors.list(
    { sourceApp: query.sourceApp, backOffice: query.backOffice },
    { size: query.pageSize, token: query.continuationToken },
  );
  return json(200, page);
});

export const replaceConnector = httpEndpoint(async ({ request, log }) => {
  const { id } = parseWith(idSchema, request.params, 'path', ['path']);
  const input = await readJsonBody(request, connectorInputSchema, MAX_BODY);
  const { value, etag } = await getServices().connectors.replace(id, input, ifMatchOf(request.headers), log);
  return json(200, value, { etag });
});

export const testConnector = httpEndpoint(async ({ request, log }) => {
  const { id } = parseWith(idSchema, request.params, 'path', ['path']);
  return json(200, await getServices().testConnection(id, log));
});

export const deleteConnector = httpEndpoint(async ({ request, log }) => {
  const { id } = parseWith(idSchema, request.params, 'path', ['path']);
  await getServices().connectors.remove(id, ifMatchOf(request.headers), log);
  return { status: 204 };
});
