// Serving one declared route: correlation, authentication and roles, parsing of path, query and body with the
// declaration's schemas, problem+json for every error, HEAD, and ETag / If-None-Match.
import { createHash, randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { type CallContext, localActor } from '../model/audit';
import { dependencyBounds, withinDeadline } from '../platform/deadline';
import {
  type AppError,
  asKnownError,
  isAppError,
  MalformedJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../platform/errors';
import { instanceName } from '../platform/instance';
import { createLogger, invocationSink, type Logger, traceIdOf } from '../platform/logging';
import { problemContentType, problemForUnknown } from '../platform/problem';
import { registerSecret } from '../platform/redact';
import { parseWith } from '../platform/validation';
import { getServices } from '../services';
import type { HttpResult, RouteDeclaration } from './route';

/** Turns a declaration into the handler the Functions host calls. */
export function serve(route: RouteDeclaration) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const correlationId = traceIdOf(context.traceContext?.traceParent) ?? context.invocationId ?? randomUUID();
    const log = createLogger(invocationSink(context), { correlationId, instance: instanceName });
    const releases: Array<() => void> = [];
    let response: HttpResponseInit;
    try {
      // What the request does with storage and Key Vault ends within the deadline: a 503, never a hang.
      response = await withinDeadline(dependencyBounds.requestMs, async () => {
        const role = typeof route.role === 'function' ? route.role(request) : route.role;
        // Who calls is settled first: a refused caller learns nothing of the request's validity.
        const actor = role ? await getServices().authenticate(request, role, log) : localActor;
        const call = { actor, correlationId };
        const { params, query, body } = await refusalsAudited(route, request, call, log, async () => {
          const params = route.params ? parseWith(route.params, request.params, 'path', ['path']) : undefined;
          const query = route.query ? readQuery(request, route.query) : undefined;
          const pathId = route.method === 'PUT' ? (params as { id?: string } | undefined)?.id : undefined;
          const body = route.body
            ? await readJsonBody(request, route.body.schema, route.body.maxBytes, pathId)
            : undefined;
          return { params, query, body };
        });
        for (const secret of route.body?.secrets?.(body) ?? []) releases.push(registerSecret(secret));
        const result = await route.handler({
          request,
          context,
          params,
          query,
          body,
          log,
          call,
          correlationId,
        });
        return toResponse(result, request);
      });
    } catch (error) {
      response = errorResponse(asKnownError(error), new URL(request.url).pathname, correlationId, log);
    } finally {
      for (const release of releases) release();
    }
    return {
      ...response,
      headers: { ...(response.headers as Record<string, string>), 'x-correlation-id': correlationId },
    };
  };
}

function toResponse(result: HttpResult, request: HttpRequest): HttpResponseInit {
  const raw = typeof result.body === 'string';
  const body = result.body === undefined ? undefined : raw ? (result.body as string) : JSON.stringify(result.body);
  const headers: Record<string, string> = {
    ...(body !== undefined && !raw ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    ...result.headers,
  };
  const reading = request.method === 'GET' || request.method === 'HEAD';
  if (reading && result.status === 200 && body !== undefined) {
    headers.etag ??= `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    if (matchesNoneMatch(request.headers.get('if-none-match'), headers.etag))
      return { status: 304, headers: { etag: headers.etag } };
  }
  if (request.method === 'HEAD') return { status: result.status, headers };
  return { status: result.status, headers, ...(body !== undefined ? { body } : {}) };
}

/** If-None-Match: "*" or a list of entity tags, compared weakly (RFC 9110 13.1.2). */
function matchesNoneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

function errorResponse(error: unknown, instance: string, correlationId: string, log: Logger): HttpResponseInit {
  const problem = problemForUnknown(error, { instance, correlationId });
  if (problem.status >= 500) {
    // Only the error's name and code: a message from an SDK can carry request data.
    const cause = (error as { cause?: unknown }).cause;
    log.error('request.failed', { status: problem.status, error: safeSummary(error), cause: safeSummary(cause) });
  } else {
    log.info('request.rejected', { status: problem.status, type: problem.type, detail: problem.detail });
  }
  return {
    status: problem.status,
    headers: { 'content-type': problemContentType, ...((error as AppError).headers ?? {}) },
    body: JSON.stringify(problem),
  };
}

function safeSummary(error: unknown): unknown {
  if (!error) return undefined;
  if (isAppError(error) && error.safeToLog) return { name: error.name, code: error.code, message: error.message };
  const e = error as { name?: string; code?: unknown; statusCode?: unknown };
  return { name: e.name ?? typeof error, code: e.code, statusCode: e.statusCode };
}

/** The If-Match header, or undefined when absent or blank. */
export const ifMatchOf = (request: HttpRequest): string | undefined =>
  request.headers.get('if-match')?.trim() || undefined;

/**
 * A request an audited route refuses before its use case runs (a body that does not parse, a path id the body
 * contradicts) is on the audit trail too, as failed with the problem's code: one rule for every refusal.
 */
async function refusalsAudited<T>(
  route: RouteDeclaration,
  request: HttpRequest,
  call: CallContext,
  log: Logger,
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (route.audit && isAppError(error) && error.status < 500)
      await getServices().audit.record(
        call,
        { ...route.audit, resourceId: request.params.id ?? '-', outcome: 'failed', detail: error.code },
        log,
      );
    throw error;
  }
}

/** Reads a JSON body: content type, size cap, syntax, the path's id (a PUT), then the schema. */
async function readJsonBody<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  maxBytes: number,
  pathId?: string,
): Promise<z.output<S>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new UnsupportedMediaTypeError(
      `Send the body as application/json (got ${type ? JSON.stringify(type.slice(0, 80)) : 'no content type'}).`,
    );
  }
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new PayloadTooLargeError(`The body may be at most ${maxBytes} bytes.`);
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(`The body may be at most ${maxBytes} bytes.`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    // Node's message can quote the input (which may hold a password): keep only the position.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new MalformedJsonError(
      bytes.length === 0
        ? 'The body is empty; send a JSON document.'
        : `The body is not valid JSON${position ? ` (error at position ${position})` : ' (it ends too early or has a stray character)'}.`,
    );
  }
  // A body read with GET may be sent back with its id; an id of another resource is a mistake, not ignored.
  const bodyId = (value as { id?: unknown } | null)?.id;
  if (pathId !== undefined && bodyId !== undefined && bodyId !== null && bodyId !== pathId)
    throw new ValidationError('The body is not valid.', [
      { path: 'id', message: `must be the id in the path (${pathId}), or left out`, code: 'id_mismatch' },
    ]);
  return parseWith(schema, value, 'body');
}

function readQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.output<S> {
  const query: Record<string, string> = {};
  for (const [key, value] of request.query.entries()) {
    if (key !== 'code') query[key] = value; // `code` carries a function key, if a caller sends one
  }
  return parseWith(schema, query, 'query string', ['query']);
}
