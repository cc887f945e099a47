// RFC 9457 problem details. Every error response of the API goes through here; the schema is also what the
// OpenAPI document shows, so the two cannot drift.
import { z } from 'zod';
import { type AppError, isAppError } from './errors';

export const problemContentType = 'application/problem+json';
export const problemTypeBase = 'urn:backoffice-connector:problem:';

export const problemSchema = z
  .object({
    type: z.string().describe(`${problemTypeBase}<code>; the codes are in the README under Troubleshooting`),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    correlationId: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() }))
      .optional()
      .describe('one entry per invalid field'),
  })
  .meta({ title: 'Problem', description: 'RFC 9457 problem details' });

export type ProblemDetails = z.output<typeof problemSchema>;

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
