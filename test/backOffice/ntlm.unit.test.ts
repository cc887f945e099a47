// NTLMv2 as MS-NLMP specifies it: the published test vectors (section 4.2.4, "NTLMv2 Authentication"), the
// three messages, the login forms, and the handshake against the fake Windows server through the real
// outbound HTTP: right password in, wrong password out, a handshake split across connections refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offeredSchemes, schemeMismatch } from '../../src/backOffice/authSchemes';
import { createBackOfficeClient } from '../../src/backOffice/backOfficeClient';
import {
  authenticateMessage,
  NtlmError,
  negotiateMessage,
  ntlmToken,
  ntlmv2Responses,
  ntowfv2,
  parseChallenge,
  parseWindowsLogin,
} from '../../src/backOffice/ntlm';
import { createOutboundHttp } from '../../src/backOffice/outboundHttp';
import type { BackOfficeTarget } from '../../src/backOffice/target';
import { createTokenService } from '../../src/backOffice/tokens';
import { buildPushBody } from '../../src/model/pushBody';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { sampleChange } from '../support/changes';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('MS-NLMP 4.2.4 test vectors (user "User", domain "Domain", password "Password")', () => {
  // The CHALLENGE's target info in the example: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", EOL.
  const targetInfo = hex(
    '02000c0044006f006d00610069006e00 01000c005300650072007600650072000000 0000'.replace(/\s/g, ''),
  );
  const challenge = { serverChallenge: hex('0123456789abcdef'), targetInfo };
  const credentials = { user: 'User', domain: 'Domain', password: 'Password' };
  const clientChallenge = hex('aaaaaaaaaaaaaaaa');
  const time = Buffer.alloc(8);

  it('NTOWFv2 (4.2.4.1.1)', () => {
    expect(ntowfv2('Password', 'User', 'Domain').toString('hex')).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('the LMv2 response (4.2.4.2.1)', () => {
    const { lmChallengeResponse } = ntlmv2Responses(challenge, credentials, clientChallenge, time);
    expect(lmChallengeResponse.toString('hex')).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
  });

  it('the NTLMv2 response: NTProofStr, then the blob with time, client challenge and target info (4.2.4.2.2)', () => {
    const { ntChallengeResponse } = ntlmv2Responses(challenge, credentials, clientChallenge, time);
    expect(ntChallengeResponse.subarray(0, 16).toString('hex')).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(ntChallengeResponse.subarray(16).toString('hex')).toBe(
      `0101000000000000${'00'.repeat(8)}aaaaaaaaaaaaaaaa00000000${targetInfo.toString('hex')}00000000`,
    );
  });

  it('the user name is upper-cased, the domain is not', () => {
    expect(ntowfv2('Password', 'user', 'Domain')).toEqual(ntowfv2('Password', 'User', 'Domain'));
    expect(ntowfv2('Password', 'User', 'DOMAIN')).not.toEqual(ntowfv2('Password', 'User', 'Domain'));
  });
});

describe('NTLM messages', () => {
  it('NEGOTIATE asks for Unicode and NTLM with extended session security, nothing about LM', () => {
    const message = Buffer.from(negotiateMessage().replace(/^NTLM /, ''), 'base64');
    expect(message.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(message.readUInt32LE(8)).toBe(1);
    const flags = message.readUInt32LE(12);
    expect(flags & 0x1).toBe(0x1); // NTLMSSP_NEGOTIATE_UNICODE
    expect(flags & 0x200).toBe(0x200); // NTLMSSP_NEGOTIATE_NTLM
    expect(flags & 0x80000).toBe(0x80000); // NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
    expect(flags & 0x80).toBe(0); // NTLMSSP_NEGOTIATE_LM_KEY
    expect(flags & 0x10).toBe(0); // no signing
  });

  it('finds the NTLM token among other challenges', () => {
    expect(ntlmToken('Negotiate, NTLM TlRMTVNTUAACAAAA, Basic realm="x"')).toBe('TlRMTVNTUAACAAAA');
    expect(ntlmToken('Negotiate, NTLM')).toBeUndefined();
    expect(ntlmToken(undefined)).toBeUndefined();
  });

  it('refuses a challenge that is not one, or has lengths past its end, or no target info (NTLMv1 only)', () => {
    expect(() =>
      parseChallenge(Buffer.from('not ntlm at all, but long enough to read...........').toString('base64')),
    ).toThrow(NtlmError);
    const bogus = Buffer.alloc(48);
    Buffer.from('NTLMSSP\0', 'latin1').copy(bogus);
    bogus.writeUInt32LE(2, 8);
    bogus.writeUInt32LE(0x00800000, 20);
    bogus.writeUInt16LE(500, 40);
    bogus.writeUInt32LE(48, 44);
    expect(() => parseChallenge(bogus.toString('base64'))).toThrow(/target information/);
    bogus.writeUInt32LE(0, 20); // no NTLMSSP_NEGOTIATE_TARGET_INFO: the server offers NTLMv1 only
    expect(() => parseChallenge(bogus.toString('base64'))).toThrow(/NTLMv1/);
  });

  it('reads DOMAIN\\user, user@domain and a bare user name', () => {
    expect(parseWindowsLogin('CRONUS\\svc-dime')).toEqual({ domain: 'CRONUS', user: 'svc-dime' });
    expect(parseWindowsLogin('svc-dime@cronus.local')).toEqual({ domain: '', user: 'svc-dime@cronus.local' });
    expect(parseWindowsLogin('svc-dime')).toEqual({ domain: '', user: 'svc-dime' });
  });
});

describe('WWW-Authenticate', () => {
  it('names the schemes a server offers, commas in quoted parameters notwithstanding', () => {
    expect([...offeredSchemes('Negotiate, NTLM')].sort()).toEqual(['negotiate', 'ntlm']);
    expect([...offeredSchemes('Basic realm="BC, on-prem", charset="UTF-8"')]).toEqual(['basic']);
    expect([...offeredSchemes('Bearer authorization_uri="https://login/x", error="invalid_token"')]).toEqual([
      'bearer',
    ]);
    expect([...offeredSchemes(undefined)]).toEqual([]);
  });

  it.each([
    ['basic', 'Negotiate, NTLM', 'auth.scheme-mismatch', 'set authType ntlm and login DOMAIN\\user'],
    ['ntlm', 'Basic realm="BC"', 'auth.scheme-mismatch', 'set authType basic'],
    ['ntlm', 'Negotiate', 'auth.kerberos-only', 'allow NTLM on the server'],
    ['basic', 'Negotiate', 'auth.kerberos-only', 'allow NTLM on the server'],
  ] as const)('authType %s against "%s": %s', (authType, header, code, advice) => {
    const found = schemeMismatch(authType, header);
    expect(found).toMatchObject({ kind: 'permanent', code });
    expect(found!.message).toContain(advice);
  });

  it("says nothing when the server offers the connector's scheme, or nothing at all", () => {
    expect(schemeMismatch('ntlm', 'Negotiate, NTLM')).toBeUndefined();
    expect(schemeMismatch('basic', 'Basic realm="x"')).toBeUndefined();
    expect(schemeMismatch('basic', undefined)).toBeUndefined();
  });
});

describe('the handshake against a Windows server', () => {
  let bc: BusinessCentralFake;
  let http: ReturnType<typeof createOutboundHttp>;
  const PASSWORD = 'Windows-Passw0rd!';

  beforeAll(async () => {
    bc = new BusinessCentralFake();
    bc.windows.addUser('CRONUS\\svc-dime', PASSWORD).addUser('svc-upn@cronus.local', PASSWORD);
    await bc.start();
    http = createOutboundHttp({ allowLoopback: true, connectTimeoutMs: 2000, totalTimeoutMs: 5000 });
  });
  afterAll(async () => {
    http.close();
    await bc.stop();
  });

  const target = (overrides: Partial<BackOfficeTarget> = {}): BackOfficeTarget => ({
    id: '0a7b3c6d-1e2f-4a5b-8c9d-0e1f2a3b4c5d',
    backOffice: 'bc-onprem',
    apiType: 'rest',
    authType: 'ntlm',
    webServiceUri: `${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
    login: 'CRONUS\\svc-dime',
    secret: PASSWORD,
    ...overrides,
  });
  const client = () =>
    createBackOfficeClient({ http, tokens: createTokenService({ entraAuthorityHost: 'https://login.example' }) });

  it('delivers with the right password, three messages on one connection', async () => {
    const before = bc.requests.length;
    const outcome = await client().deliver(target(), buildPushBody(target().id, sampleChange()));
    expect(outcome).toMatchObject({ kind: 'delivered', status: 201 });
    const exchange = bc.requests.slice(before);
    expect(exchange).toHaveLength(2);
    expect(exchange[0]!.headers.authorization).toMatch(/^NTLM /);
    expect(exchange[0]!.body).toBe('');
    expect(exchange[1]!.connection).toBe(exchange[0]!.connection);
    expect(bc.principals.has('user:CRONUS\\svc-dime')).toBe(true);
  });

  it('delivers with a UPN login', async () => {
    const outcome = await client().deliver(
      target({ login: 'svc-upn@cronus.local' }),
      buildPushBody(target().id, sampleChange()),
    );
    expect(outcome.kind).toBe('delivered');
  });

  it('answers auth.rejected to a wrong password, and the connection test says the same', async () => {
    const wrong = target({ secret: 'not-the-password' });
    expect(await client().deliver(wrong, buildPushBody(wrong.id, sampleChange()))).toMatchObject({
      kind: 'permanent',
      code: 'auth.rejected',
      status: 401,
    });
    expect(await client().test(wrong)).toMatchObject({ ok: false, stage: 'request', code: 'auth.rejected' });
    expect(await client().test(target())).toMatchObject({ ok: true, code: 'ok' });
  });

  it('refuses an AUTHENTICATE on another connection than its CHALLENGE', async () => {
    const url = target().webServiceUri;
    const first = http.connection();
    const second = http.connection();
    try {
      const challenged = await first.send({ url, method: 'GET', headers: { authorization: negotiateMessage() } });
      expect(challenged.status).toBe(401);
      const authorization = authenticateMessage(parseChallenge(ntlmToken(challenged.headers['www-authenticate'])!), {
        user: 'svc-dime',
        domain: 'CRONUS',
        password: PASSWORD,
      });
      const elsewhere = await second.send({ url, method: 'GET', headers: { authorization } });
      expect(elsewhere.status).toBe(401);
      expect(elsewhere.headers['www-authenticate']).toBe('Negotiate, NTLM');
    } finally {
      first.close();
      second.close();
    }
  });

  it('a Basic connector against it is told to use Windows authentication', async () => {
    const basic = target({ authType: 'basic', login: 'svc-dime' });
    expect(await client().test(basic)).toMatchObject({
      ok: false,
      code: 'auth.scheme-mismatch',
      message: expect.stringContaining('set authType ntlm and login DOMAIN\\user'),
    });
  });
});
