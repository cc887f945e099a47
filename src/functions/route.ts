// One declaration per HTTP function: route, method, role, request and response schemas, docs and handler in
// one value. Registration (through the generated manifest), the 405 answers, the OpenAPI document and the
// authorisation all derive from these declarations. Queue and timer triggers are declared the same way.
import type { HttpRequest, InvocationContext, Timer } from '@azure/functions';
import type { z } from 'zod';
import type { Role } from '../auth/roles';
import type { AuditOperation, AuditResourceType, CallContext } from '../model/audit';
import type { Logger } from '../platform/logging';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  example?: unknown;
  headers?: Record<string, string>;
}

export interface RouteCall<P, Q, B> {
  request: HttpRequest;
  context: InvocationContext;
  params: P;
  query: Q;
  body: B;
  log: Logger;
  call: CallContext;
  correlationId: string;
}

export interface HttpResult {
  status: number;
  /** Serialised as JSON; a string is sent as it is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteDeclaration<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  /** The function's name, unique in the app. */
  name: string;
  method: HttpMethod;
  /** A host route template, without the /api prefix. */
  route: string;
  /** The role a caller's token must carry; null: anonymous. A function decides per request. */
  role: Role | null | ((request: HttpRequest) => Role | null);
  summary: string;
  description?: string;
  tags: string[];
  params?: P;
  query?: Q;
  /**
   * `documented`: the schema the OpenAPI document shows, when the parsing schema cannot show itself.
   * `secrets`: the values in the body that must never appear in a log line (a password): they are masked from
   * the moment the body is read until the response is made, in every form the redactor knows.
   */
  body?: {
    schema: B;
    maxBytes: number;
    example?: unknown;
    documented?: z.ZodType;
    secrets?: (body: z.output<B>) => Array<string | null | undefined>;
  };
  /**
   * What the audit trail calls this request. The use case records how it ended; a request refused before it
   * (a body that does not parse, a wrong path id) is recorded as failed here, with the problem's code.
   */
  audit?: { operation: AuditOperation; resourceType: AuditResourceType };
  /** Every status the handler answers with (problem statuses are documented as problem+json). */
  responses: Record<number, ResponseDoc>;
  /** Left out of the OpenAPI document (the catch-all). */
  undocumented?: boolean;
  /** Answers every method (the catch-all); `method` is then only what its handler is written for. */
  anyMethod?: boolean;
  handler(call: RouteCall<z.output<P>, z.output<Q>, z.output<B>>): Promise<HttpResult>;
}

/** Declares an HTTP function; the types of params, query and body follow from their schemas. */
export function defineRoute<
  P extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  B extends z.ZodType = z.ZodUndefined,
>(declaration: RouteDeclaration<P, Q, B>): RouteDeclaration {
  return declaration as unknown as RouteDeclaration;
}

export interface QueueTriggerDeclaration {
  name: string;
  /** The app setting that names the queue (bound as %SETTING%). */
  queueSetting: string;
  /** `message` is what the library hands over: JSON text arrives parsed. */
  handler(message: unknown, context: InvocationContext): Promise<void>;
}

export interface TimerDeclaration {
  name: string;
  /** An NCRONTAB schedule, or %SETTING% naming one. */
  schedule: string;
  handler(timer: Timer, context: InvocationContext): Promise<void>;
}

export const defineQueueTrigger = (declaration: QueueTriggerDeclaration) => declaration;
export const defineTimer = (declaration: TimerDeclaration) => declaration;

/** What a function module exports: its declarations. */
export interface FunctionModule {
  routes?: RouteDeclaration[];
  queueTriggers?: QueueTriggerDeclaration[];
  timers?: TimerDeclaration[];
}
