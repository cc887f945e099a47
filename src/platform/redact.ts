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
 * token client) releases its value when it lets go of it, so the set follows what the process holds and stays
 * bounded. The cap is a last guard against a holder that never releases.
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
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const holders = knownSecrets.get(value);
    if (holders === undefined) return;
    if (holders <= 1) knownSecrets.delete(value);
    else knownSecrets.set(value, holders - 1);
  };
}

/** How many distinct values are registered (for tests of the bound). */
export const knownSecretCount = (): number => knownSecrets.size;

export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets.keys()) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(MASK);
  }
  for (const [pattern, replacement] of patterns) out = out.replace(pattern, replacement);
  return out;
}

/** Redacts, then cuts to a length fit for a table column or a log line. */
export function redactAndTruncate(text: string, max = 1000): string {
  const clean = redact(text);
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
