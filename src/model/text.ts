// Text primitives shared by every schema: well-formed Unicode, no control characters, the source app code.
import { z } from 'zod';

// biome-ignore lint/suspicious/noControlCharactersInRegex: this pattern exists to refuse control characters
export const noControlChars = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const noEdgeSpaces = /^(\S(.*\S)?)?$/s;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that is well-formed Unicode: a lone surrogate cannot be encoded into a URI, a key or a header. */
export const text = () => z.string().refine((s) => !loneSurrogate.test(s), 'must be well-formed Unicode text');

/** A short code: no control characters, no spaces at either end. */
const code = (max: number) =>
  text()
    .min(1)
    .max(max)
    .regex(noControlChars, 'must not contain control characters')
    .regex(noEdgeSpaces, 'must not start or end with spaces');

export const sourceAppSchema = code(30).describe(
  'The source application code the back office stamps on its jobs and tasks (1-30 characters; compared case-insensitively)',
);

export const sourceTypeSchema = code(10);

/** Any GUID written 8-4-4-4-12 in hex, any case and any version (SQL Server NEWSEQUENTIALID() values too); lower-cased. */
export const guidSchema = z
  .string()
  .regex(
    /^[\da-fA-F]{8}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{4}-[\da-fA-F]{12}$/,
    'must be a GUID (8-4-4-4-12 hex digits)',
  )
  .transform((s) => s.toLowerCase());

/** Case-insensitive routing key of a source app. */
export const normaliseSourceApp = (sourceApp: string): string => sourceApp.toUpperCase();

/**
 * A source app as a table key: keys may not hold / \ # ? or control characters, so percent-encode, then swap
 * % for ':' (the encoder never produces ':').
 */
export function sourceAppKey(sourceApp: string): string {
  return encodeURIComponent(normaliseSourceApp(sourceApp))
    .replace(/[!'()*~.]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%/g, ':');
}
