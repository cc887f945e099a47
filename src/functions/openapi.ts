// OpenAPI 3.1 built from the route declarations and their zod schemas: JSON Schema 2020-12 comes from zod
// itself, so nothing is written twice. Every status an operation can answer is listed: the declared ones, and
// those its shape implies (a role: 401 and 403; input: 400; a body: 413 and 415; a GET: 304).
import { z } from 'zod';
import { roleDescriptions } from '../auth/roles';
import { problemContentType, problemSchema } from '../platform/problem';
import type { ResponseDoc, RouteDeclaration } from './route';

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    reused: 'inline',
  });
  return json; // the document's dialect is 2020-12 already (OpenAPI 3.1)
}

function implied(route: RouteDeclaration): Record<number, ResponseDoc> {
  const docs: Record<number, ResponseDoc> = {};
  if (route.params || route.query || route.body)
    docs[400] = { description: 'The path, query or body is not valid (field errors in `errors`)' };
  if (route.role) {
    docs[401] = { description: 'No valid bearer token' };
    docs[403] = { description: 'The token lacks the role' };
  }
  if (route.body) {
    docs[413] = { description: `The body is larger than ${route.body.maxBytes} bytes` };
    docs[415] = { description: 'The body is not application/json' };
  }
  if (route.method === 'GET') docs[304] = { description: 'Not modified (If-None-Match matched the ETag)' };
  return docs;
}

const problemRef = { $ref: '#/components/schemas/Problem' };

function responsesOf(route: RouteDeclaration): Record<string, unknown> {
  const all = { ...implied(route), ...route.responses };
  const out: Record<string, unknown> = {};
  for (const [status, res] of Object.entries(all).sort(([a], [b]) => Number(a) - Number(b))) {
    const code = Number(status);
    const problem = code >= 400 && !res.schema;
    out[status] = {
      description: res.description,
      ...(res.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
            ),
          }
        : {}),
      ...(res.schema || problem
        ? {
            content: {
              [problem ? problemContentType : 'application/json']: {
                schema: res.schema ? toSchema(res.schema, 'output') : problemRef,
                ...(res.example !== undefined ? { example: res.example } : {}),
              },
            },
          }
        : {}),
    };
  }
  out.default = {
    description: 'Unexpected error (RFC 9457 problem details)',
    content: { [problemContentType]: { schema: problemRef } },
  };
  return out;
}

const tagDescriptions: Record<string, string> = {
  system: 'Health and this document',
  connectors: 'Back-office endpoints, their credentials, connection tests and recoveries',
  'action URIs': 'URI templates filled with task or appointment data when a planner clicks them',
  sync: 'Appointment changes in, and the delivery log of what happened to each',
  audit: 'Who changed which configuration, tested, replayed or recovered what',
};

export function buildOpenApi(
  routes: RouteDeclaration[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `/api/${route.route}`.replace(/\{([^}:?=*]+)[^}]*\}/g, '{$1}');
    const pathParams = [...route.route.matchAll(/\{([^}:?=*]+)[^}]*\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema:
        route.params && route.params instanceof z.ZodObject
          ? toSchema((route.params.shape as Record<string, z.ZodType>)[m[1]!] ?? z.string(), 'input')
          : { type: 'string' },
    }));
    const queryParams =
      route.query && route.query instanceof z.ZodObject
        ? Object.entries(route.query.shape as Record<string, z.ZodType>).map(([name, schema]) => {
            const { description, ...json } = toSchema(schema, 'input') as { description?: string };
            return {
              name,
              in: 'query',
              required: !schema.safeParse(undefined).success,
              schema: json,
              ...(description ? { description } : {}),
            };
          })
        : [];
    const role = typeof route.role === 'function' ? 'Deliveries.Read' : route.role;
    const roleNote =
      typeof route.role === 'function'
        ? 'Anonymous; with ?deep=true the caller needs the Deliveries.Read role.'
        : role
          ? `Needs the ${role} role.`
          : 'Anonymous.';
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      operationId: route.name,
      summary: route.summary,
      description: [route.description, roleNote].filter(Boolean).join(' '),
      tags: route.tags,
      security: role === null ? [{}] : typeof route.role === 'function' ? [{}, { entra: [role] }] : [{ entra: [role] }],
      'x-required-role': role,
      ...(pathParams.length + queryParams.length ? { parameters: [...pathParams, ...queryParams] } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: toSchema(route.body.documented ?? route.body.schema, 'input'),
                  ...(route.body.example !== undefined ? { example: route.body.example } : {}),
                },
              },
            },
          }
        : {}),
      responses: responsesOf(route),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Connects a scheduling application to Microsoft Dynamics 365 Business Central (online and on-premises), Dynamics NAV and webhooks.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.flatMap((r) => r.tags))]
      .sort()
      .map((name) => ({ name, description: tagDescriptions[name] ?? name })),
    paths,
    components: {
      securitySchemes: {
        entra: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `A Microsoft Entra ID access token for this API (audience AUTH_AUDIENCE), with application roles: ${Object.entries(
            roleDescriptions,
          )
            .map(([r, d]) => `${r} (${d})`)
            .join('; ')}.`,
        },
      },
      schemas: { Problem: toSchema(problemSchema, 'output') },
    },
  };
}
