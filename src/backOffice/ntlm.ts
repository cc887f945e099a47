// NTLMv2 (MS-NLMP) for Business Central on-premises and NAV servers with Windows authentication: the
// NEGOTIATE, CHALLENGE and AUTHENTICATE messages, NTLMv2 only (no LM, no NTLMv1, no session security).
//
// Written here rather than taken from npm: ntlm-client (and axios-ntlm's copy of it) computes the NT hash with
// node:crypto's MD4, which OpenSSL 3 disables, draws the client challenge from Math.random and keeps NTLMv1
// paths; what is needed is about 150 lines over kept primitives, pinned to the MS-NLMP vectors: MD4 from js-md4,
// HMAC-MD5 and randomness from node:crypto.
import { createHmac, randomBytes } from 'node:crypto';

import md4 = require('js-md4');

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const FLAGS = {
  unicode: 0x00000001,
  requestTarget: 0x00000004,
  ntlm: 0x00000200,
  alwaysSign: 0x00008000,
  extendedSessionSecurity: 0x00080000,
  targetInfo: 0x00800000,
  version: 0x02000000,
  bits128: 0x20000000,
  bits56: 0x80000000,
};
/** What the client asks for: Unicode, NTLM with extended session security (which NTLMv2 implies), no signing or sealing. */
const NEGOTIATE_FLAGS =
  FLAGS.unicode |
  FLAGS.requestTarget |
  FLAGS.ntlm |
  FLAGS.alwaysSign |
  FLAGS.extendedSessionSecurity |
  FLAGS.bits128 |
  FLAGS.bits56;
/** MsvAvTimestamp: when the server sends its time, the client uses it and leaves the LMv2 response empty. */
const AV_TIMESTAMP = 7;
const AV_EOL = 0;

export class NtlmError extends Error {
  override readonly name = 'NtlmError';
}

const hmacMd5 = (key: Buffer, ...data: Buffer[]) => {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
};
const utf16 = (text: string) => Buffer.from(text, 'utf16le');

/** NTOWFv2 (= LMOWFv2): HMAC-MD5 of MD4(password) over the upper-cased user name and the domain as written. */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  const ntHash = Buffer.from(md4.arrayBuffer(utf16(password)));
  return hmacMd5(ntHash, utf16(user.toUpperCase() + domain));
}

/** A Windows login as written in a connector: `DOMAIN\user`, or `user@domain` (a UPN: no separate domain). */
export function parseWindowsLogin(login: string): { user: string; domain: string } {
  const backslash = login.indexOf('\\');
  if (backslash > 0 && backslash < login.length - 1)
    return { domain: login.slice(0, backslash), user: login.slice(backslash + 1) };
  return { domain: '', user: login };
}

/** The NEGOTIATE message, as an Authorization header value. */
export function negotiateMessage(): string {
  const message = Buffer.alloc(32);
  SIGNATURE.copy(message, 0);
  message.writeUInt32LE(1, 8);
  message.writeUInt32LE(NEGOTIATE_FLAGS >>> 0, 12);
  // Domain and workstation fields empty (length 0, offset 32).
  message.writeUInt32LE(32, 20);
  message.writeUInt32LE(32, 28);
  return `NTLM ${message.toString('base64')}`;
}

export interface Challenge {
  flags: number;
  serverChallenge: Buffer;
  targetInfo: Buffer;
  /** The server's MsvAvTimestamp, when it sent one. */
  timestamp?: Buffer;
}

/** The NTLM token of a WWW-Authenticate header (`NTLM <base64>`), among other challenges; undefined if none. */
export function ntlmToken(wwwAuthenticate: string | undefined): string | undefined {
  for (const part of (wwwAuthenticate ?? '').split(','))
    if (/^\s*NTLM\s+\S/i.test(part)) return part.trim().split(/\s+/)[1];
  return undefined;
}

/** Reads a CHALLENGE message, checking every length and offset against the buffer. */
export function parseChallenge(token: string): Challenge {
  const message = Buffer.from(token, 'base64');
  if (message.length < 48 || !message.subarray(0, 8).equals(SIGNATURE) || message.readUInt32LE(8) !== 2)
    throw new NtlmError('the server did not send an NTLM challenge');
  const flags = message.readUInt32LE(20);
  const serverChallenge = Buffer.from(message.subarray(24, 32));
  const length = message.readUInt16LE(40);
  const offset = message.readUInt32LE(44);
  if (!(flags & FLAGS.targetInfo) || length === 0 || offset + length > message.length)
    throw new NtlmError('the server sent no target information, which NTLMv2 needs (is NTLMv1 forced on the server?)');
  const targetInfo = Buffer.from(message.subarray(offset, offset + length));
  let timestamp: Buffer | undefined;
  for (let at = 0; at + 4 <= targetInfo.length; ) {
    const id = targetInfo.readUInt16LE(at);
    const size = targetInfo.readUInt16LE(at + 2);
    if (id === AV_EOL) break;
    if (at + 4 + size > targetInfo.length) throw new NtlmError('the server sent malformed target information');
    if (id === AV_TIMESTAMP && size === 8) timestamp = Buffer.from(targetInfo.subarray(at + 4, at + 12));
    at += 4 + size;
  }
  return { flags, serverChallenge, targetInfo, timestamp };
}

/** Windows FILETIME: 100 ns ticks since 1601-01-01, little endian. */
export function fileTime(ms: number): Buffer {
  const time = Buffer.alloc(8);
  time.writeBigUInt64LE((BigInt(Math.round(ms)) + 11_644_473_600_000n) * 10_000n);
  return time;
}

export interface Ntlmv2Responses {
  ntChallengeResponse: Buffer;
  lmChallengeResponse: Buffer;
}

/** The NTLMv2 and LMv2 responses (MS-NLMP 3.3.2), from the challenge and the client's challenge and time. */
export function ntlmv2Responses(
  challenge: Pick<Challenge, 'serverChallenge' | 'targetInfo' | 'timestamp'>,
  credentials: { user: string; domain: string; password: string },
  clientChallenge: Buffer,
  time: Buffer,
): Ntlmv2Responses {
  const key = ntowfv2(credentials.password, credentials.user, credentials.domain);
  const temp = Buffer.concat([
    Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
    time,
    clientChallenge,
    Buffer.alloc(4),
    challenge.targetInfo,
    Buffer.alloc(4),
  ]);
  const ntProof = hmacMd5(key, challenge.serverChallenge, temp);
  return {
    ntChallengeResponse: Buffer.concat([ntProof, temp]),
    // With the server's timestamp the LMv2 response is sent as zeros (MS-NLMP 3.1.5.1.2).
    lmChallengeResponse: challenge.timestamp
      ? Buffer.alloc(24)
      : Buffer.concat([hmacMd5(key, challenge.serverChallenge, clientChallenge), clientChallenge]),
  };
}

/** The AUTHENTICATE message for a challenge, as an Authorization header value. */
export function authenticateMessage(
  challenge: Challenge,
  credentials: { user: string; domain: string; password: string },
  options: { workstation?: string; now?: number; clientChallenge?: Buffer } = {},
): string {
  const time = challenge.timestamp ?? fileTime(options.now ?? Date.now());
  const { ntChallengeResponse, lmChallengeResponse } = ntlmv2Responses(
    challenge,
    credentials,
    options.clientChallenge ?? randomBytes(8),
    time,
  );
  const fields = [
    lmChallengeResponse,
    ntChallengeResponse,
    utf16(credentials.domain),
    utf16(credentials.user),
    utf16((options.workstation ?? '').toUpperCase()),
    Buffer.alloc(0), // no encrypted session key: no signing or sealing is negotiated
  ];
  const HEADER = 64;
  const header = Buffer.alloc(HEADER);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  let offset = HEADER;
  fields.forEach((field, i) => {
    header.writeUInt16LE(field.length, 12 + i * 8);
    header.writeUInt16LE(field.length, 14 + i * 8);
    header.writeUInt32LE(offset, 16 + i * 8);
    offset += field.length;
  });
  header.writeUInt32LE((NEGOTIATE_FLAGS & challenge.flags) >>> 0 || NEGOTIATE_FLAGS >>> 0, 60);
  return `NTLM ${Buffer.concat([header, ...fields]).toString('base64')}`;
}
