// Redaction: every log line and every stored error message goes through here.

const MASK = '***';

// Patterns that look like credentials whatever their origin. Order matters: longer forms first.
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
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${MASK}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, MASK],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, `whsec_${MASK}`],
];

/** Known secret values (connector passwords, client secrets) registered at the moment they are read. */
const knownSecrets = new Set<string>();

/** Registers a value that must never appear in logs. Short values are ignored: masking "a" would ruin every line. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) knownSecrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
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
