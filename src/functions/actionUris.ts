// HTTP adapters for action URI definitions and rendering.
import { z } from 'zod';
import {
  actionUriInputSchema,
  actionUriListQuerySchema,
  actionUriSchema,
  renderedSchema,
  renderRequestSchema,
} from '../actionUris/model';
import type { RouteDoc } from '../platform/openapi';
import { getServices } from '../services';
import { httpEndpoint, ifMatchOf, json, parseWith, readJsonBody, readQuery } from './http';

const idSchema = z.object({ id: z.uuid({ error: 'must be an action URI id (a UUID)' }) });
const tags = ['action URIs'];
const example = {
  sourceApp: 'BCCRONUSUS',
  sourceType: 'SERVICE',
  uriType: 'appointment',
  template: "https://businesscentral.dynamics.com/?company=CRONUS&page=5900&filter='No.' IS '#JOBNO#'",
  description: 'Open service order',
  isDefault: true,
  requestType: 'GET',
};

export const docs: Record<string, RouteDoc> = {
  createActionUri: {
    summary: 'Create an action URI definition',
    tags,
    body: actionUriInputSchema,
    bodyExample: example,
    responses: {
      201: { description: 'Created', schema: actionUriSchema },
      400: { description: 'Invalid template, placeholder or scheme' },
      409: { description: 'Another default exists in the scope' },
    },
  },
  listActionUris: {
    summary: 'List action URI definitions',
    tags,
    query: actionUriListQuerySchema,
    responses: { 200: { description: 'Definitions', schema: z.object({ items: z.array(actionUriSchema) }) } },
  },
  getActionUri: {
    summary: 'Read an action URI definition',
    tags,
    responses: {
      200: { description: 'The definition', schema: actionUriSchema },
      404: { description: 'No such definition' },
    },
  },
  replaceActionUri: {
    summary: 'Replace an action URI definition',
    tags,
    body: actionUriInputSchema,
    responses: {
      200: { description: 'Replaced', schema: actionUriSchema },
      412: { description: 'If-Match does not match' },
    },
  },
  deleteActionUri: { summary: 'Delete an action URI definition', tags, responses: { 204: { description: 'Deleted' } } },
  renderActionUris: {
    summary: 'Render the definitions that match a record, or several records (map multi-select)',
    tags,
    body: renderRequestSchema,
    bodyExample: {
      uriType: 'appointment',
      records: [{ sourceApp: 'BCCRONUSUS', sourceType: 'SERVICE', jobNo: 'SO-1001', start: '2026-11-30T08:00:00Z' }],
    },
    responses: {
      200: {
        description: 'Rendered definitions, defaults first',
        schema: z.object({ items: z.array(renderedSchema) }),
      },
    },
  },
};

export const createActionUri = httpEndpoint(async ({ request, log }) => {
  const input = await readJsonBody(request, actionUriInputSchema, 16 * 1024);
  const { value, etag } = await getServices().actionUris.create(input, log);
  return json(201, value, { location: new URL(`/api/action-uris/${value.id}`, request.url).toString(), etag });
});

export const listActionUris = httpEndpoint(async ({ request }) => {
  const items = await getServices().actionUris.list(readQuery(request, actionUriListQuerySchema));
  return json(200, { items });
});

export const getActionUri = httpEndpoint(async ({ request }) => {
  const { id } = parseWith(idSchema, request.params, 'path', ['path']);
  const { value, etag } = await getServices().actionUris.get(id);
  return json(200, value, { etag });
});

export const replaceActionUri = httpEndpoint(async ({ request, log }) => {
  const { id } = parseWith(idSchema, request.params, 'path', ['path']);
  const input = await readJsonBody(request, actionUriInputSchema, 16 * 1024);
  const { value, etag } = await getServices().actionUris.replace(id, input, ifMatchOf(request.headers), log);
  return json(200, value, { etag });
});

export const deleteActionUri = httpEndpoint(async ({ request, log }) => {
  const { id } = parseWith(idSchema, request.params, 'path', ['path']);
  await getServices().actionUris.remove(id, ifMatchOf(request.headers), log);
  return { status: 204 };
});

export const renderActionUris = httpEndpoint(async ({ request }) => {
  const body = await readJsonBody(request, renderRequestSchema, 1024 * 1024);
  return json(200, { items: await getServices().actionUris.render(body.uriType, body.records) });
});
