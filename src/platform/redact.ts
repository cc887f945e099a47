// Redaction: every log line and every stored error message goes through here.
// Two layers: patterns that look like credentials whatever their origin (tokens are caught this way), and the
// exact values of the secrets the process holds right now (a client secret, a password read from Key Vault).

const MASK = '***';

// Order matters: longer forms first.
const patterns: Array<[RegExp, string]> = [
  [
    /\b(client_secret|password|secret|access_token|refresh_token|AccountKey|SharedAccessSignature|sig|code)=([^&;\s"']+)/gi,
    `$1=${MASK}`,
  ],
  [
    /("(?:password|clientSecret|client_secret|secret|accessToken|access_token|token|authorization|signingSecret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    `$1"${MASK}"`,
  ],
  [/\b(authorization|x-functions-key|api-key|webhook-signature)(\s*[:=]\s*)([^\r\n,;]+)/gi, `$1$2${MASK}`],
  [/\b(Bearer|Basic|NTLM|Negotiate)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${MASK}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, MASK],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, `whsec_${MASK}`],
];

/**
 * The secret values held right now, each with the number of holders. A holder (a cached Key Vault version, a
 * token client, a request whose body carries a password) releases its value when it lets go of it, so the set
 * follows what the process holds and stays bounded. The cap is a last guard against a holder that never
 * releases.
 */
const knownSecrets = new Map<string, number>();
export const MAX_KNOWN_SECRETS = 5000;

/**
 * Registers a value that must never appear in logs while it is held; returns the release. Short values are
 * ignored: masking "a" would ruin every line.
 */
export function registerSecret(value: string | undefined | null): () => void {
  if (!value || value.length < 4) return () => undefined;
  knownSecrets.set(value, (knownSecrets.get(value) ?? 0) + 1);
  if (knownSecrets.size > MAX_KNOWN_SECRETS) knownSecrets.delete(knownSecrets.keys().next().value!);
  forms.length = 0;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const holders = knownSecrets.get(value);
    if (holders === undefined) return;
    if (holders <= 1) knownSecrets.delete(value);
    else knownSecrets.set(value, holders - 1);
    forms.length = 0;
  };
}

/** How many distinct values are registered (for tests of the bound). */
export const knownSecretCount = (): number => knownSecrets.size;

/**
 * Lower-cases each letter whose lower case is as long as it is, so every character keeps its place (a full
 * case mapping can change lengths, which would misplace the masks).
 */
const caseless = (text: string) =>
  text.replace(/\p{Lu}/gu, (c) => {
    const lower = c.toLowerCase();
    return lower.length === c.length ? lower : c;
  });

/**
 * The forms of a secret a back office may echo, each compared without regard to case (a password in
 * upper case, hex in either case): as it is, URL-encoded, base64 (with or without padding, URL-safe),
 * hex, and escaped inside a JSON string.
 */
export function formsOf(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = bytes.toString('base64');
  return [
    secret,
    encodeURIComponent(secret),
    base64,
    base64.replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    JSON.stringify(secret).slice(1, -1),
  ];
}

/** Every form of every known secret, lower-cased, longest first; rebuilt when the set changes. */
const forms: string[] = [];
const currentForms = (): string[] => {
  if (forms.length === 0 && knownSecrets.size > 0) {
    const all = new Set<string>();
    for (const secret of knownSecrets.keys())
      for (const form of formsOf(secret)) if (form.length >= 4) all.add(caseless(form));
    forms.push(...[...all].sort((a, b) => b.length - a.length));
  }
  return forms;
};

/** Masks every place where a known secret stands in one of its forms. */
function maskKnown(text: string): string {
  const known = currentForms();
  if (known.length === 0) return text;
  const lower = caseless(text);
  const hidden: Array<[number, number]> = [];
  for (const form of known)
    for (let at = lower.indexOf(form); at >= 0; at = lower.indexOf(form, at + 1)) hidden.push([at, at + form.length]);
  if (hidden.length === 0) return text;
  hidden.sort((a, b) => a[0] - b[0]);
  let out = '';
  let from = 0;
  for (const [start, end] of hidden) {
    if (end <= from) continue;
    out += `${text.slice(from, Math.max(from, start))}${start >= from ? MASK : ''}`;
    from = end;
  }
  return out + text.slice(from);
}

export function redact(text: string): string {
  let out = maskKnown(text);
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}

/** Redacts, then cuts to a length fit for a table column or a log line. */
export function redactAndTruncate(text: string, max = 1000): string {
  const clean = redact(text);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
