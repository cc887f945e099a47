// Typed domain errors. Each says which HTTP status it maps to and whether its message is safe to log
// and return as-is (it never carries a secret or raw upstream text).
import { RETRY_AFTER_SECONDS } from './deadline';

export interface FieldError {
  /** JSON path of the offending value, e.g. "password" or "databaseActions.1". */
  path: string;
  message: string;
  code?: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  /** Stable, documented code, e.g. "validation-failed". */
  abstract readonly code: string;
  abstract readonly title: string;
  readonly safeToLog: boolean = true;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
}

export class ValidationError extends AppError {
  readonly status = 400;
  readonly code = 'validation-failed';
  readonly title = 'The request is not valid';
  override readonly errors: FieldError[];
  constructor(detail: string, errors: FieldError[] = []) {
    super(detail);
    this.errors = errors;
  }
}

export class MalformedJsonError extends AppError {
  readonly status = 400;
  readonly code = 'malformed-json';
  readonly title = 'The body is not valid JSON';
}

export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  readonly code = 'unsupported-media-type';
  readonly title = 'Unsupported content type';
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly code = 'payload-too-large';
  readonly title = 'The body is too large';
}

/** A change that cannot travel on a queue message (64 KiB, with room for what its retries add). */
export class ChangeTooLargeError extends AppError {
  readonly status = 413;
  readonly code = 'change-too-large';
  readonly title = 'A change is too large for the queue';
  override readonly errors: FieldError[];
  constructor(detail: string, errors: FieldError[] = []) {
    super(detail);
    this.errors = errors;
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly code = 'not-found';
  readonly title = 'Not found';
}

export class MethodNotAllowedError extends AppError {
  readonly status = 405;
  readonly code = 'method-not-allowed';
  readonly title = 'Method not allowed';
  override readonly headers: Record<string, string>;
  constructor(detail: string, allowed: string[]) {
    super(detail);
    this.headers = { allow: allowed.join(', ') };
  }
}

/** No valid bearer token: 401 with the challenge RFC 6750 describes. */
export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
  readonly title = 'Authentication required';
  override readonly headers: Record<string, string>;
  constructor(detail: string, tokenSent: boolean) {
    super(detail);
    this.headers = {
      'www-authenticate': tokenSent
        ? `Bearer error="invalid_token", error_description="${detail.replace(/["\\]/g, '')}"`
        : 'Bearer',
    };
  }
}

/** A valid token without the role the route needs. */
export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly code = 'forbidden';
  readonly title = 'The caller lacks the role';
  override readonly headers = { 'www-authenticate': 'Bearer error="insufficient_scope"' };
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly code: string;
  readonly title = 'Conflict';
  constructor(detail: string, code = 'conflict') {
    super(detail);
    this.code = code;
  }
}

export class PreconditionFailedError extends AppError {
  readonly status = 412;
  readonly code = 'precondition-failed';
  readonly title = 'The resource has changed';
}

/** A dependency (storage, Key Vault) failed; the caller may retry. The cause is logged, never returned. */
export class DependencyError extends AppError {
  readonly status = 503;
  readonly code: string;
  readonly title = 'A dependency is unavailable';
  override readonly safeToLog = false;
  override readonly headers = { 'retry-after': String(RETRY_AFTER_SECONDS) };
  constructor(detail: string, code: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.code = code;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/**
 * A call that ran past its deadline and was not turned into a DependencyError where it was made: still a
 * dependency that did not answer (503, retry), not an internal error.
 */
export function asKnownError(error: unknown): unknown {
  if (isAppError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'DEADLINE_EXCEEDED' || code === 'ETIMEDOUT')
    return new DependencyError('A dependency did not answer in time.', 'dependency-timeout', { cause: error });
  return error;
}

/** The HTTP status an Azure SDK error carries (RestError.statusCode), if any. */
export const statusCodeOf = (error: unknown): number | undefined =>
  (error as { statusCode?: number } | null)?.statusCode;
