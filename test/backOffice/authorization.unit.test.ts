// The Authorization header each kind of target gets (a table of literal targets and headers), and the
// configuration failures that stop a request before it is sent.
import { describe, expect, it } from 'vitest';
import { authorizationFor } from '../../src/backOffice/authorization';
import { StageError } from '../../src/backOffice/stageError';
import type { BackOfficeTarget } from '../../src/backOffice/target';
import type { TokenService } from '../../src/backOffice/tokens';

const asked: string[] = [];
const tokens: TokenService = {
  async clientCredentials(tenant, clientId, secret, forceRefresh) {
    asked.push(`oauth ${tenant} ${clientId} ${secret} ${forceRefresh}`);
    return 'eyJ.oauth';
  },
  async managedIdentity(forceRefresh) {
    asked.push(`mi ${forceRefresh}`);
    return 'eyJ.mi';
  },
};

const target = (overrides: Partial<BackOfficeTarget>): BackOfficeTarget => ({
  id: 'c1',
  backOffice: 'bc-onprem',
  apiType: 'rest',
  authType: 'basic',
  webServiceUri: 'https://bc.example.com/x',
  login: null,
  secret: null,
  ...overrides,
});

const CLIENT = '00000000-1111-4222-8333-444444444444';

describe('authorizationFor', () => {
  const cases: Array<[string, Partial<BackOfficeTarget>, string | undefined, string[]]> = [
    ['no authentication', { authType: 'none' }, undefined, []],
    ['a signing secret signs the body instead', { authType: 'signing-secret', secret: 'whsec_x' }, undefined, []],
    [
      'Basic, UTF-8',
      { authType: 'basic', login: 'SVC', secret: 'pässwörd' },
      `Basic ${Buffer.from('SVC:pässwörd').toString('base64')}`,
      [],
    ],
    [
      'OAuth client credentials from the password form',
      {
        authType: 'oauth2-client-credentials',
        login: 'contoso.onmicrosoft.com',
        secret: `client_secret=a%26b&client_id=${CLIENT}`,
      },
      'Bearer eyJ.oauth',
      [`oauth contoso.onmicrosoft.com ${CLIENT} a&b false`],
    ],
    ['the managed identity', { authType: 'managed-identity', backOffice: 'bc-online' }, 'Bearer eyJ.mi', ['mi false']],
  ];
  it.each(cases)('%s', async (_name, overrides, header, calls) => {
    asked.length = 0;
    expect(await authorizationFor(target(overrides), tokens, false)).toBe(header);
    expect(asked).toEqual(calls);
  });

  it('asks for a fresh token when told to (after a 401)', async () => {
    asked.length = 0;
    await authorizationFor(target({ authType: 'managed-identity' }), tokens, true);
    expect(asked).toEqual(['mi true']);
  });

  const refusals: Array<[string, Partial<BackOfficeTarget>, string, string]> = [
    [
      'Basic without a password',
      { authType: 'basic', login: 'SVC' },
      'config.secret-missing',
      'basic authentication needs a login and a password',
    ],
    [
      'OAuth without a password',
      { authType: 'oauth2-client-credentials', login: 't' },
      'config.secret-missing',
      'client credentials need a tenant id and a password',
    ],
    [
      'OAuth with a password that is not the form',
      { authType: 'oauth2-client-credentials', login: 't', secret: 'just-a-secret' },
      'config.credentials-unparseable',
      'must be client_id=<client id>&client_secret=<client secret> (URL-encoded form)',
    ],
  ];
  it.each(refusals)('%s: a permanent failure at the credentials stage', async (_name, overrides, code, message) => {
    const error = await authorizationFor(target(overrides), tokens, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StageError);
    expect((error as StageError).stage).toBe('credentials');
    expect((error as StageError).outcome).toEqual({ kind: 'permanent', code, message });
  });

  it('refuses to build a header for Windows authentication, which is a handshake', async () => {
    await expect(
      authorizationFor(target({ authType: 'ntlm', login: 'D\\u', secret: 'p' }), tokens, false),
    ).rejects.toThrow('Windows authentication is a handshake');
  });
});
