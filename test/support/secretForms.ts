// The forms in which a back office (or anything else) may echo a secret: what tests search outputs for.
// Written out here rather than taken from the redactor, so a form it forgets fails a test.
export function secretForms(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret, 'utf8');
  return {
    plain: secret,
    'upper case': secret.toUpperCase(),
    'lower case': secret.toLowerCase(),
    'URL-encoded': encodeURIComponent(secret),
    base64: bytes.toString('base64'),
    'base64 without padding': bytes.toString('base64').replace(/=+$/, ''),
    base64url: bytes.toString('base64url'),
    hex: bytes.toString('hex'),
    HEX: bytes.toString('hex').toUpperCase(),
    'JSON-escaped': JSON.stringify(secret).slice(1, -1),
  };
}

/** The forms of any of the secrets that appear in the text, named. */
export function leakedForms(text: string, secrets: string[]): string[] {
  return secrets.flatMap((secret) =>
    Object.entries(secretForms(secret))
      .filter(([, form]) => text.includes(form))
      .map(([name]) => `${name} of ${secret.slice(0, 3)}…`),
  );
}

/** Every string inside a JSON value (parsed), so an escaped form in the JSON text is compared as it reads. */
export function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

/** A log line as text, and the strings of the JSON fields it ends with. */
export const logStrings = (line: string): string[] => {
  const json = line.indexOf('{');
  try {
    return [line, ...(json >= 0 ? stringsOf(JSON.parse(line.slice(json))) : [])];
  } catch {
    return [line];
  }
};
