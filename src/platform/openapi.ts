// OpenAPI 3.1 built from the route table and the zod schemas each function module documents.
// JSON Schema 2020-12 (what OpenAPI 3.1 uses) comes from zod itself: no hand-written copies.
import { z } from 'zod';
import { problemContentType } from './problem';

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  example?: unknown;
  headers?: Record<string, string>;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  tags?: string[];
  query?: z.ZodObject;
  body?: z.ZodType;
  bodyExample?: unknown;
  responses: Record<number, ResponseDoc>;
}

export interface DocumentedRoute {
  name: string;
  route: string;
  method: string;
  authLevel: string;
  doc: RouteDoc;
}

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    correlationId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
  })
  .meta({ title: 'Problem', description: 'RFC 9457 problem details' });

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    reused: 'inline',
  });
  return json; // the document's dialect is 2020-12 already (OpenAPI 3.1)
}

export function buildOpenApi(
  routes: DocumentedRoute[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = `/api/${r.route}`.replace(/\{([^}:?=*]+)[^}]*\}/g, '{$1}');
    const pathParams = [...r.route.matchAll(/\{([^}:?=*]+)[^}]*\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const queryParams = r.doc.query
      ? Object.entries(r.doc.query.shape).map(([name, schema]) => {
          const json = toSchema(schema as z.ZodType, 'input') as { description?: string };
          return {
            name,
            in: 'query',
            required: !(schema as z.ZodType).safeParse(undefined).success,
            schema: json,
            description: json.description,
          };
        })
      : [];
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.doc.responses)) {
      const isProblem = Number(status) >= 400;
      responses[status] = {
        description: res.description,
        ...(res.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(res.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
              ),
            }
          : {}),
        ...(res.schema || isProblem
          ? {
              content: {
                [isProblem ? problemContentType : 'application/json']: {
                  schema: res.schema ? toSchema(res.schema, 'output') : { $ref: '#/components/schemas/Problem' },
                  ...(res.example !== undefined ? { example: res.example } : {}),
                },
              },
            }
          : {}),
      };
    }
    responses.default = {
      description: 'Error (RFC 9457 problem details)',
      content: { [problemContentType]: { schema: { $ref: '#/components/schemas/Problem' } } },
    };
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      operationId: r.name,
      summary: r.doc.summary,
      ...(r.doc.description ? { description: r.doc.description } : {}),
      ...(r.doc.tags ? { tags: r.doc.tags } : {}),
      ...(r.authLevel === 'anonymous' ? { security: [] } : {}),
      ...(pathParams.length + queryParams.length ? { parameters: [...pathParams, ...queryParams] } : {}),
      ...(r.doc.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: toSchema(r.doc.body, 'input'),
                  ...(r.doc.bodyExample !== undefined ? { example: r.doc.bodyExample } : {}),
                },
              },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    security: [{ functionKey: [] }],
    paths,
    components: {
      securitySchemes: {
        functionKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'A function or host key; `?code=` works too.',
        },
      },
      schemas: { Problem: toSchema(problemSchema, 'output') },
    },
  };
}
