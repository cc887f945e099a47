// Text primitives shared by every schema: well-formed Unicode, no control characters, the source app code.
import { z } from 'zod';

// biome-ignore lint/suspicious/noControlCharactersInRegex: this pattern exists to refuse control characters
export const noControlChars = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const noEdgeSpaces = /^(\S(.*\S)?)?$/s;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that is well-formed Unicode: a lone surrogate cannot be encoded into a URI, a key or a header. */
export const text = () => z.string().refine((s) => !loneSurrogate.test(s), 'must be well-formed Unicode text');

/** Format (Cf: zero-width, bidi marks, soft hyphen) and control (Cc) characters: invisible, and routes apart. */
const invisible = /[\p{Cc}\p{Cf}]/u;

/** "U+200B" */
export const codePointOf = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * A short code (a source app, a source type): NFC-normalised (an accent composed or not is one code), without
 * format or control characters (the error names the code point), without spaces at either end, and at most
 * `max` characters after normalising.
 */
const code = (max: number) =>
  text()
    .transform((s) => s.normalize('NFC'))
    .pipe(
      z.string().superRefine((s, ctx) => {
        const length = [...s].length;
        if (length === 0) ctx.addIssue({ code: 'custom', message: 'must not be empty' });
        if (length > max)
          ctx.addIssue({ code: 'custom', message: `must be at most ${max} characters (has ${length})` });
        const bad = invisible.exec(s);
        if (bad)
          ctx.addIssue({
            code: 'custom',
            message: `must not contain ${codePointOf(bad[0])} (${/\p{Cc}/u.test(bad[0]) ? 'a control character' : 'a format character, invisible'})`,
          });
        if (!noEdgeSpaces.test(s)) ctx.addIssue({ code: 'custom', message: 'must not start or end with spaces' });
      }),
    )
    // What the OpenAPI document says (the checks above are code, which a JSON schema cannot show).
    .meta({ minLength: 1, maxLength: max });

export const sourceAppSchema = code(30).describe(
  'The source application code the back office stamps on its jobs and tasks (1-30 characters after NFC normalisation, no invisible characters; compared case-insensitively)',
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

/**
 * The form in which codes are compared: NFC, then each character in upper case where that is one character that
 * folds back to it. So "cafe\u0301" and "CAFÉ" are one code, while "STRAßE" and "STRASSE", "ıX" and "IX",
 * "ﬀX" and "FFX" stay apart (a full case mapping would merge them or change the length).
 */
export function caseKey(text: string): string {
  let out = '';
  for (const c of text.normalize('NFC')) {
    const upper = c.toUpperCase();
    out += [...upper].length === 1 && upper.toLowerCase() === c.toLowerCase() ? upper : c;
  }
  return out;
}

/** Case-insensitive routing key of a source app. */
export const normaliseSourceApp = caseKey;

/**
 * A source app as a table key: keys may not hold / \ # ? or control characters, so percent-encode, then swap
 * % for ':' (the encoder never produces ':').
 */
export function sourceAppKey(sourceApp: string): string {
  return encodeURIComponent(normaliseSourceApp(sourceApp))
    .replace(/[!'()*~.]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%/g, ':');
}
