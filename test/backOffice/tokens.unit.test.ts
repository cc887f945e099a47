// Which token failures are passing (retried) and which name a configuration problem (permanent), through the
// real MSAL client against the Entra fake.
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenError } from '../../src/backOffice/stageError';
import { createTokenService } from '../../src/backOffice/tokens';
import { freePort } from '../../src/local/ports';
import { CLIENT, TENANT } from '../fakes/demoTenant';
import { EntraFake } from '../fakes/entraFake';

const SECRET = 'tokens-test-secret-8c7d6e';
let entra: EntraFake;

beforeAll(async () => {
  entra = new EntraFake().register(TENANT, CLIENT, SECRET);
  await entra.start();
});
afterAll(() => entra.stop());

/** A fresh service per case: MSAL keeps a throttle entry after a 5xx, which would leak between cases. */
async function outcomeOf(authorityHost = entra.url, tenant = TENANT, secret = SECRET) {
  try {
    await createTokenService({ entraAuthorityHost: authorityHost }).clientCredentials(tenant, CLIENT, secret, false);
    return 'token';
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    const { kind, code, upstreamCode } = (error as TokenError).outcome;
    return { kind, code, upstreamCode };
  }
}

describe('token failures', () => {
  it.each([
    [
      'HTTP 500 AADSTS50000 ("There was an error issuing a token")',
      { status: 500, aadsts: 50000, error: 'server_error', description: 'There was an error issuing a token.' },
      { kind: 'transient', code: 'auth.token-unavailable', upstreamCode: 'AADSTS50000' },
    ],
    ['HTTP 503 with an OAuth error', { status: 503 }, { kind: 'transient', code: 'auth.token-unavailable' }],
    [
      'HTTP 503 with an HTML page (a gateway), not an empty token',
      { status: 503, html: true },
      { kind: 'transient', code: 'auth.token-unavailable' },
    ],
    ['HTTP 429', { status: 429, aadsts: 50196 }, { kind: 'transient', code: 'auth.token-unavailable' }],
    ['HTTP 502 with an HTML page', { status: 502, html: true }, { kind: 'transient', code: 'auth.token-unavailable' }],
  ])('%s is transient', async (_name, failure, expected) => {
    entra.failWith = { ...failure, times: 1, retryAfterSeconds: 0 };
    expect(await outcomeOf()).toMatchObject(expected);
  });

  it('treats a token service that cannot be reached as transient', async () => {
    const closed = await freePort();
    expect(await outcomeOf(`http://127.0.0.1:${closed}`)).toMatchObject({
      kind: 'transient',
      code: 'auth.token-unavailable',
    });
  });

  it('treats a connection reset by the token service as transient', async () => {
    const resetting = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => resetting.listen(0, '127.0.0.1', () => r()));
    const port = (resetting.address() as { port: number }).port;
    try {
      expect(await outcomeOf(`http://127.0.0.1:${port}`)).toMatchObject({
        kind: 'transient',
        code: 'auth.token-unavailable',
      });
    } finally {
      resetting.close();
    }
  });

  it.each([
    [
      'a wrong client secret',
      SECRET.replace('8c', 'xx'),
      TENANT,
      { kind: 'permanent', code: 'auth.invalid-client-secret', upstreamCode: 'AADSTS7000215' },
    ],
    [
      'an unknown tenant',
      SECRET,
      '00000000-0000-0000-0000-000000000009',
      { kind: 'permanent', code: 'auth.invalid-tenant', upstreamCode: 'AADSTS90002' },
    ],
  ])('%s is permanent', async (_name, secret, tenant, expected) => {
    expect(await outcomeOf(entra.url, tenant, secret)).toMatchObject(expected);
  });

  it('an expired client secret (AADSTS7000222) is permanent, with what to do', async () => {
    entra.expiredSecrets.add(CLIENT.toLowerCase());
    try {
      const service = createTokenService({ entraAuthorityHost: entra.url });
      const error = await service.clientCredentials(TENANT, CLIENT, SECRET, false).catch((e: unknown) => e);
      expect((error as TokenError).outcome).toMatchObject({
        kind: 'permanent',
        code: 'auth.secret-expired',
        upstreamCode: 'AADSTS7000222',
      });
      expect((error as TokenError).outcome.message).toContain('create a new client secret');
    } finally {
      entra.expiredSecrets.clear();
    }
  });

  it('an answer without a token is transient auth.empty-token', async () => {
    entra.omitAccessToken = true;
    try {
      expect(await outcomeOf()).toMatchObject({ kind: 'transient', code: 'auth.empty-token' });
    } finally {
      entra.omitAccessToken = false;
    }
  });
});

describe("MSAL's pause after an Entra failure", () => {
  afterEach(() => vi.useRealTimers());

  async function failure(service: ReturnType<typeof createTokenService>) {
    try {
      await service.clientCredentials(TENANT, CLIENT, SECRET, false);
      return undefined;
    } catch (error) {
      return (error as TokenError).outcome;
    }
  }

  it.each([
    ['with Retry-After: 20', 20, 21_000],
    ['without Retry-After (MSAL pauses 60 s)', undefined, 61_000],
  ])(
    'a 5xx %s says when MSAL will ask Entra again, and the next try after that gets a token',
    async (_name, retryAfterSeconds, expectedMs) => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(1_800_000_000_000);
      entra.failWith = { status: 503, times: 1, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) };
      const service = createTokenService({ entraAuthorityHost: entra.url });
      const requestsBefore = entra.tokenRequests;
      expect(await failure(service)).toMatchObject({
        kind: 'transient',
        code: 'auth.token-unavailable',
        retryAfterMs: expectedMs,
      });
      // Ten seconds later MSAL still refuses without asking Entra, and says how much is left.
      vi.setSystemTime(1_800_000_010_000);
      expect(await failure(service)).toMatchObject({ kind: 'transient', retryAfterMs: expectedMs - 10_000 });
      expect(entra.tokenRequests - requestsBefore).toBe(1);
      // When the pause has ended (as the sync retries, at retryAfterMs), Entra is asked and answers.
      vi.setSystemTime(1_800_000_000_000 + expectedMs);
      expect(await failure(service)).toBeUndefined();
    },
  );
});
