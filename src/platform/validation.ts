// zod at the boundaries: issues become problem field errors (a path and a message, never the value).
import type { z } from 'zod';
import { type FieldError, ValidationError } from './errors';

/** A path as a reader writes it: `records[2].jobNo`, `[3].revision`, `query.status`. */
export function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

/** What a missing value is told (zod's own words are "expected string, received undefined"). */
export const REQUIRED = 'is required';

/** A schema's message for a wrong value that still says "is required" for a missing one. */
export const unlessMissing =
  (message: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? REQUIRED : message;

/** Parse options for every boundary: a missing value "is required", whatever its type. */
export const boundaryParse = {
  error: (issue: { input?: unknown }) => (issue.input === undefined ? REQUIRED : undefined),
};

/** zod issues as problem field errors: a path and a message, never the rejected value. */
export function fieldErrors(error: z.ZodError, prefix: string[] = []): FieldError[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const unrecognized = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : undefined;
    return {
      path: formatPath(unrecognized ? [...path, unrecognized[0]!] : path),
      message: unrecognized ? `unknown property (${unrecognized.join(', ')}); remove it` : issue.message,
      code: issue.code,
    };
  });
}

export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  prefix: string[] = [],
): z.output<S> {
  const result = schema.safeParse(value, boundaryParse);
  if (!result.success) throw new ValidationError(`The ${what} is not valid.`, fieldErrors(result.error, prefix));
  return result.data;
}
