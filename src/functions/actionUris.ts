// HTTP functions for action URI definitions and rendering.
import { z } from 'zod';
import {
  actionUriInputSchema,
  actionUriListQuerySchema,
  actionUriSchema,
  renderedSchema,
  renderRequestSchema,
} from '../model/actionUri';
import { unlessMissing } from '../platform/validation';
import { getServices } from '../services';
import { ifMatchOf } from './http';
import { defineRoute } from './route';

const params = z.object({ id: z.uuid({ error: unlessMissing('must be an action URI id (a UUID)') }) });
const tags = ['action URIs'];
const role = 'Connectors.Manage' as const;
const MAX_BODY = 16 * 1024;
const example = {
  sourceApp: 'BCCRONUSUS',
  sourceType: 'SERVICE',
  uriType: 'appointment',
  template: "https://businesscentral.dynamics.com/?company=CRONUS&page=5900&filter='No.' IS '#JOBNO#'",
  description: 'Open service order',
  isDefault: true,
  requestType: 'GET',
};
const etagHeader = { etag: 'The version of the definition; send it back in If-Match' };

export const routes = [
  defineRoute({
    name: 'createActionUri',
    audit: { operation: 'action-uri.create', resourceType: 'action-uri' },
    method: 'POST',
    route: 'action-uris',
    role,
    summary: 'Create an action URI definition',
    tags,
    body: { schema: actionUriInputSchema, maxBytes: MAX_BODY, example },
    responses: {
      201: {
        description: 'Created',
        schema: actionUriSchema,
        headers: { location: 'URL of the definition', ...etagHeader },
      },
      409: { description: 'Another definition is the default in that scope (default-exists)' },
    },
    async handler({ body, request, call, log }) {
      const { value, etag } = await getServices().actionUris.create(body, call, log);
      const location = new URL(`/api/action-uris/${value.id}`, request.url).toString();
      return { status: 201, body: value, headers: { location, etag } };
    },
  }),
  defineRoute({
    name: 'listActionUris',
    method: 'GET',
    route: 'action-uris',
    role,
    summary: 'List action URI definitions',
    tags,
    query: actionUriListQuerySchema,
    responses: { 200: { description: 'Definitions', schema: z.object({ items: z.array(actionUriSchema) }) } },
    async handler({ query }) {
      return { status: 200, body: { items: await getServices().actionUris.list(query) } };
    },
  }),
  defineRoute({
    name: 'renderActionUris',
    method: 'POST',
    route: 'action-uris/render',
    role: 'Scheduler',
    summary: 'Render the definitions that match a record, or several records (map multi-select)',
    description:
      "The records' fields depend on uriType: task and map records describe open tasks, appointment and planningBoard records describe appointments.",
    tags,
    body: {
      schema: renderRequestSchema,
      maxBytes: 1024 * 1024,
      example: {
        uriType: 'appointment',
        records: [{ sourceApp: 'BCCRONUSUS', sourceType: 'SERVICE', jobNo: 'SO-1001', start: '2026-11-30T08:00:00Z' }],
      },
    },
    responses: {
      200: {
        description: 'Rendered definitions, defaults first',
        schema: z.object({ items: z.array(renderedSchema) }),
      },
    },
    async handler({ body }) {
      return { status: 200, body: { items: await getServices().actionUris.render(body) } };
    },
  }),
  defineRoute({
    name: 'getActionUri',
    method: 'GET',
    route: 'action-uris/{id}',
    role,
    summary: 'Read an action URI definition',
    tags,
    params,
    responses: {
      200: { description: 'The definition', schema: actionUriSchema, headers: etagHeader },
      404: { description: 'No such definition' },
    },
    async handler({ params }) {
      const { value, etag } = await getServices().actionUris.get(params.id);
      return { status: 200, body: value, headers: { etag } };
    },
  }),
  defineRoute({
    name: 'replaceActionUri',
    audit: { operation: 'action-uri.replace', resourceType: 'action-uri' },
    method: 'PUT',
    route: 'action-uris/{id}',
    role,
    summary: 'Replace an action URI definition',
    description: 'A body read with GET can be sent back: its read-only properties are ignored.',
    tags,
    params,
    body: { schema: actionUriInputSchema, maxBytes: MAX_BODY, example },
    responses: {
      200: { description: 'Replaced', schema: actionUriSchema, headers: etagHeader },
      404: { description: 'No such definition' },
      409: { description: 'Another definition is the default in that scope (default-exists)' },
      412: { description: 'If-Match does not match the current ETag' },
    },
    async handler({ params, body, request, call, log }) {
      const { value, etag } = await getServices().actionUris.replace(params.id, body, ifMatchOf(request), call, log);
      return { status: 200, body: value, headers: { etag } };
    },
  }),
  defineRoute({
    name: 'deleteActionUri',
    audit: { operation: 'action-uri.delete', resourceType: 'action-uri' },
    method: 'DELETE',
    route: 'action-uris/{id}',
    role,
    summary: 'Delete an action URI definition',
    description: 'Without If-Match the delete is unconditional.',
    tags,
    params,
    responses: {
      204: { description: 'Deleted' },
      404: { description: 'No such definition' },
      412: { description: 'If-Match does not match the current ETag' },
    },
    async handler({ params, request, call, log }) {
      await getServices().actionUris.remove(params.id, ifMatchOf(request), call, log);
      return { status: 204 };
    },
  }),
];
