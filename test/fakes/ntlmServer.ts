// The server side of NTLM for the fakes, as IIS/http.sys does it for a Business Central or NAV instance with
// the Windows credential type: a NEGOTIATE gets a CHALLENGE bound to that connection; an AUTHENTICATE on the
// same connection is checked against the user's password (NTLMv2 only) and authenticates the connection.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { fileTime, ntowfv2 } from '../../src/backOffice/ntlm';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export type NtlmVerdict =
  | { kind: 'challenge'; header: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'authenticated'; user: string; domain: string };

/** The message type of an `NTLM <base64>` Authorization header (1, 2 or 3), or undefined. */
export function ntlmMessageType(authorization: string | undefined): number | undefined {
  const m = /^NTLM\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) return undefined;
  const message = Buffer.from(m[1]!, 'base64');
  return message.length >= 12 && message.subarray(0, 8).equals(SIGNATURE) ? message.readUInt32LE(8) : undefined;
}

const avPair = (id: number, value: Buffer) => {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
};

/** The user and domain an AUTHENTICATE message names. */
export function ntlmUserOf(authorization: string): { user: string; domain: string } {
  const message = Buffer.from(authorization.replace(/^NTLM\s+/i, ''), 'base64');
  const field = (at: number) => {
    const length = message.readUInt16LE(at);
    const offset = message.readUInt32LE(at + 4);
    return message.subarray(offset, offset + length).toString('utf16le');
  };
  return { domain: field(28), user: field(36) };
}

export class NtlmServer {
  /** Windows users: "DOMAIN\user" (or a UPN) upper-cased -> password. */
  readonly users = new Map<string, string>();
  readonly #challenges = new Map<number, { serverChallenge: Buffer; targetInfo: Buffer }>();
  readonly #authenticated = new Map<number, { user: string; domain: string }>();

  addUser(login: string, password: string): this {
    this.users.set(login.toUpperCase(), password);
    return this;
  }

  /** Whether this connection completed a handshake already (NTLM authenticates the connection). */
  authenticatedOn(connection: number) {
    return this.#authenticated.get(connection);
  }

  handle(connection: number, authorization: string): NtlmVerdict {
    const message = Buffer.from(authorization.replace(/^NTLM\s+/i, ''), 'base64');
    const type = ntlmMessageType(authorization);
    if (type === 1) return this.#challenge(connection);
    if (type !== 3) return { kind: 'refused', reason: 'not an NTLM message' };
    const issued = this.#challenges.get(connection);
    this.#challenges.delete(connection);
    if (!issued) return { kind: 'refused', reason: 'no challenge was issued on this connection' };
    const ntLength = message.readUInt16LE(20);
    const ntOffset = message.readUInt32LE(24);
    const nt = message.subarray(ntOffset, ntOffset + ntLength);
    const { user, domain } = ntlmUserOf(authorization);
    const password = this.users.get((domain ? `${domain}\\${user}` : user).toUpperCase());
    if (!password) return { kind: 'refused', reason: 'unknown user' };
    if (nt.length <= 24) return { kind: 'refused', reason: 'an NTLMv1 response' };
    const proof = nt.subarray(0, 16);
    const temp = nt.subarray(16);
    if (!temp.includes(issued.targetInfo)) return { kind: 'refused', reason: 'the response is for other target info' };
    const expected = createHmac('md5', ntowfv2(password, user, domain))
      .update(issued.serverChallenge)
      .update(temp)
      .digest();
    if (!timingSafeEqual(proof, expected)) return { kind: 'refused', reason: 'wrong password' };
    this.#authenticated.set(connection, { user, domain });
    return { kind: 'authenticated', user, domain };
  }

  #challenge(connection: number): NtlmVerdict {
    const serverChallenge = randomBytes(8);
    const targetInfo = Buffer.concat([
      avPair(2, Buffer.from('CRONUS', 'utf16le')),
      avPair(1, Buffer.from('BCSERVER', 'utf16le')),
      avPair(7, fileTime(Date.now())),
      avPair(0, Buffer.alloc(0)),
    ]);
    this.#challenges.set(connection, { serverChallenge, targetInfo });
    const targetName = Buffer.from('CRONUS', 'utf16le');
    const header = Buffer.alloc(48);
    SIGNATURE.copy(header, 0);
    header.writeUInt32LE(2, 8);
    header.writeUInt16LE(targetName.length, 12);
    header.writeUInt16LE(targetName.length, 14);
    header.writeUInt32LE(48, 16);
    // Unicode, NTLM, extended session security, target info, 128 and 56 bit.
    header.writeUInt32LE((0x00000001 | 0x00000200 | 0x00080000 | 0x00800000 | 0x20000000 | 0x80000000) >>> 0, 20);
    serverChallenge.copy(header, 24);
    header.writeUInt16LE(targetInfo.length, 40);
    header.writeUInt16LE(targetInfo.length, 42);
    header.writeUInt32LE(48 + targetName.length, 44);
    return { kind: 'challenge', header: `NTLM ${Buffer.concat([header, targetName, targetInfo]).toString('base64')}` };
  }
}
