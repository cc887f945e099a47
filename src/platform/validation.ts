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
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`The ${what} is not valid.`, fieldErrors(result.error, prefix));
  return result.data;
}
