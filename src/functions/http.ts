// The HTTP adapter layer: correlation, logging, body/query parsing with zod, and problem+json for errors.
// Function modules stay thin: parse -> call a service -> map to a response.
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import {
  type AppError,
  isAppError,
  MalformedJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../platform/errors';
import { createLogger, invocationSink, type Logger, traceIdOf } from '../platform/logging';
import { problemContentType, problemForUnknown } from '../platform/problem';
import { parseWith } from '../platform/validation';

export { fieldErrors, parseWith } from '../platform/validation';

export interface HttpCall {
  request: HttpRequest;
  context: InvocationContext;
  log: Logger;
  correlationId: string;
}

export type HttpImpl = (call: HttpCall) => Promise<HttpResponseInit>;

/** Wraps a handler: every response carries the correlation id, every error becomes problem+json. */
export function httpEndpoint(impl: HttpImpl) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const correlationId = traceIdOf(context.traceContext?.traceParent) ?? context.invocationId ?? randomUUID();
    const log = createLogger(invocationSink(context), { correlationId });
    let response: HttpResponseInit;
    try {
      response = await impl({ request, context, log, correlationId });
    } catch (error) {
      response = errorResponse(error, new URL(request.url).pathname, correlationId, log);
    }
    return {
      ...response,
      headers: { ...(response.headers as Record<string, string>), 'x-correlation-id': correlationId },
    };
  };
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
export const ifMatchOf = (headers: Headers): string | undefined => headers.get('if-match')?.trim() || undefined;

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** Reads a JSON body: content type, size cap, syntax, then the schema. */
export async function readJsonBody<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
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
  return parseWith(schema, value, 'body');
}

export function readQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.output<S> {
  const query: Record<string, string> = {};
  for (const [key, value] of request.query.entries()) {
    if (key !== 'code') query[key] = value; // `code` carries the function key
  }
  return parseWith(schema, query, 'query string', ['query']);
}
