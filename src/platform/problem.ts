// RFC 9457 problem details. Every error response of the API goes through here.
import { type AppError, type FieldError, isAppError } from './errors';

export const problemContentType = 'application/problem+json';
export const problemTypeBase = 'urn:backoffice-connector:problem:';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  correlationId?: string;
  errors?: FieldError[];
}

export function problemFrom(error: AppError, extras: { instance?: string; correlationId?: string }): ProblemDetails {
  return {
    type: `${problemTypeBase}${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    ...extras,
    ...(error.errors?.length ? { errors: error.errors } : {}),
  };
}

/** Anything that is not an AppError becomes an opaque 500: its message may hold upstream text or secrets. */
export function problemForUnknown(
  error: unknown,
  extras: { instance?: string; correlationId?: string },
): ProblemDetails {
  if (isAppError(error)) return problemFrom(error, extras);
  return {
    type: `${problemTypeBase}internal-error`,
    title: 'Internal server error',
    status: 500,
    detail: 'The request failed unexpectedly. Quote the correlation id when you report it.',
    ...extras,
  };
}
