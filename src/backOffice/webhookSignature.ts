// Standard Webhooks signing: webhook-id, webhook-timestamp (Unix seconds) and
// webhook-signature = "v1," + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).
import { createHmac } from 'node:crypto';

/** A `whsec_<base64>` secret is its decoded bytes; any other secret is used as UTF-8 text. */
export function signingKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  const signature = createHmac('sha256', signingKey(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': `v1,${signature}` };
}
