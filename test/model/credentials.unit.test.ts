import { describe, expect, it } from 'vitest';
import { CredentialFormatError, isTenantId, parseOAuthPassword, resolveAuthType } from '../../src/model/credentials';

const CLIENT = '11111111-2222-3333-4444-555555555555';

describe('parseOAuthPassword', () => {
  it('reads both keys in any order, URL-decoded', () => {
    expect(parseOAuthPassword(`client_id=${CLIENT}&client_secret=a%26b%3Dc+d`)).toEqual({
      clientId: CLIENT,
      clientSecret: 'a&b=c d',
    });
    expect(parseOAuthPassword(`client_secret=xyz&client_id=${CLIENT}`)).toEqual({
      clientId: CLIENT,
      clientSecret: 'xyz',
    });
  });

  it.each([
    ['missing secret', `client_id=${CLIENT}`, /client_secret is missing/],
    ['missing id', 'client_secret=xyz', /client_id is missing/],
    ['not a GUID', 'client_id=abc&client_secret=xyz', /GUID/],
    ['unknown key', `client_id=${CLIENT}&client_secret=x&scope=y`, /only client_id and client_secret/],
    ['repeated key', `client_id=${CLIENT}&client_id=${CLIENT}&client_secret=x`, /appears twice/],
    ['bare secret', 'just-a-secret', /client_id=<client id>/],
    ['broken escape', `client_id=${CLIENT}&client_secret=%E0%A4%A`, /%-escape/],
  ])('refuses %s without quoting the value', (_name, password, message) => {
    let error: unknown;
    try {
      parseOAuthPassword(password);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CredentialFormatError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('xyz');
  });
});

describe('isTenantId', () => {
  it('accepts a GUID or a verified domain', () => {
    expect(isTenantId(CLIENT)).toBe(true);
    expect(isTenantId('contoso.onmicrosoft.com')).toBe(true);
    expect(isTenantId('not a tenant')).toBe(false);
    expect(isTenantId('localhost')).toBe(false);
  });
});

describe('resolveAuthType (DESIGN.md credential rules)', () => {
  const oauth = `client_id=${CLIENT}&client_secret=s`;
  const cases: Array<[string, Parameters<typeof resolveAuthType>[0], string, string[]]> = [
    [
      'bc-online with tenant and client credentials',
      { backOffice: 'bc-online', login: CLIENT, password: oauth, hasPassword: true },
      'oauth2-client-credentials',
      [],
    ],
    [
      'bc-online blank/blank',
      { backOffice: 'bc-online', login: null, password: null, hasPassword: false },
      'managed-identity',
      [],
    ],
    [
      'bc-online login only',
      { backOffice: 'bc-online', login: CLIENT, password: null, hasPassword: false },
      'oauth2-client-credentials',
      ['password'],
    ],
    [
      'bc-online password only',
      { backOffice: 'bc-online', login: null, password: oauth, hasPassword: true },
      'oauth2-client-credentials',
      ['login'],
    ],
    [
      'bc-online bad tenant',
      { backOffice: 'bc-online', login: 'me', password: oauth, hasPassword: true },
      'oauth2-client-credentials',
      ['login'],
    ],
    [
      'bc-online unparseable password',
      { backOffice: 'bc-online', login: CLIENT, password: 'secret', hasPassword: true },
      'oauth2-client-credentials',
      ['password'],
    ],
    [
      'bc-online basic is refused',
      { backOffice: 'bc-online', authType: 'basic', login: 'u', password: 'p', hasPassword: true },
      'basic',
      ['authType'],
    ],
    ['bc-onprem basic', { backOffice: 'bc-onprem', login: 'u', password: 'p', hasPassword: true }, 'basic', []],
    [
      'bc-onprem blank/blank',
      { backOffice: 'bc-onprem', login: null, password: null, hasPassword: false },
      'managed-identity',
      [],
    ],
    [
      'bc-onprem login only',
      { backOffice: 'bc-onprem', login: 'u', password: null, hasPassword: false },
      'basic',
      ['password'],
    ],
    ['nav password only', { backOffice: 'nav', login: null, password: 'p', hasPassword: true }, 'basic', ['login']],
    [
      'nav OAuth when asked',
      { backOffice: 'nav', authType: 'oauth2-client-credentials', login: CLIENT, password: oauth, hasPassword: true },
      'oauth2-client-credentials',
      [],
    ],
    ['webhook nothing', { backOffice: 'webhook', login: null, password: null, hasPassword: false }, 'none', []],
    ['webhook basic', { backOffice: 'webhook', login: 'u', password: 'p', hasPassword: true }, 'basic', []],
    [
      'webhook signing secret',
      { backOffice: 'webhook', login: null, password: 'whsec_abc', hasPassword: true },
      'signing-secret',
      [],
    ],
    [
      'webhook login only',
      { backOffice: 'webhook', login: 'u', password: null, hasPassword: false },
      'none',
      ['login'],
    ],
    [
      'webhook managed identity refused',
      { backOffice: 'webhook', authType: 'managed-identity', login: null, password: null, hasPassword: false },
      'managed-identity',
      ['authType'],
    ],
  ];
  it.each(cases)('%s', (_name, facts, authType, errorPaths) => {
    const result = resolveAuthType(facts);
    expect(result.authType).toBe(authType);
    expect(result.errors.map((e) => e.path)).toEqual(errorPaths);
    for (const e of result.errors) expect(e.message).not.toMatch(/client_secret=s\b/);
  });
});
