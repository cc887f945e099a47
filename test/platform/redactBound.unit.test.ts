// The redactor's set of known secret values follows what the process holds: tokens are never in it (they are
// masked by pattern), a client secret stays while its token client lives, and the set does not grow with use.
import type { INetworkModule } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/backOffice/tokens';
import { knownSecretCount, redact } from '../../src/platform/redact';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '11111111-2222-3333-4444-555555555555';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An in-process token endpoint: every request gets a new token. */
function tokenEndpoint() {
  let issued = 0;
  const network: INetworkModule = {
    sendGetRequestAsync: async () => ({ headers: {}, body: {}, status: 200 }) as never,
    sendPostRequestAsync: async () => {
      issued++;
      const now = Math.floor(Date.now() / 1000);
      const access_token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ aud: 'bc', n: issued, iat: now, exp: now + 3599 })}.`;
      return { headers: {}, status: 200, body: { token_type: 'Bearer', expires_in: 3599, access_token } } as never;
    },
  };
  return { network, issued: () => issued };
}

describe('the redactor stays bounded', () => {
  // 10,000 refreshes: twice the redactor's cap, so a value kept per refresh would show here as it would at any size.
  it('10,000 token refreshes add nothing to it, and every token is still masked in a log line', async () => {
    const endpoint = tokenEndpoint();
    const tokens = createTokenService({
      entraAuthorityHost: 'https://login.microsoftonline.com',
      network: endpoint.network,
    });
    const first = await tokens.clientCredentials(TENANT, CLIENT, 'client-secret-value-1', true);
    const held = knownSecretCount();
    let last = first;
    for (let i = 0; i < 10_000; i++)
      last = await tokens.clientCredentials(TENANT, CLIENT, 'client-secret-value-1', true);
    expect(endpoint.issued()).toBe(10_001);
    expect(knownSecretCount()).toBe(held);
    expect(redact(`authorization: ${last}`)).not.toContain(last.split('.')[1]);
    expect(redact(`{"detail":"secret client-secret-value-1 leaked"}`)).not.toContain('client-secret-value-1');
  }, 120_000);

  it('rotating through 2,000 client secrets keeps it bounded: a secret leaves with its token client', async () => {
    const endpoint = tokenEndpoint();
    const tokens = createTokenService({
      entraAuthorityHost: 'https://login.microsoftonline.com',
      network: endpoint.network,
    });
    const before = knownSecretCount();
    for (let i = 0; i < 2000; i++) await tokens.clientCredentials(TENANT, CLIENT, `rotated-secret-${i}`, false);
    expect(knownSecretCount() - before).toBeLessThanOrEqual(500);
    expect(redact('rotated-secret-1999')).toBe('***'); // the newest is held, and masked
  }, 60_000);
});
