// What a 401's WWW-Authenticate says about the server: which schemes it offers, and whether the connector's
// authType is one of them. A Business Central or NAV server instance with the Windows credential type offers
// Negotiate and NTLM; with NavUserPassword, Basic; Business Central online, Bearer.
import type { AuthType } from '../model/connector';
import type { Outcome } from '../model/outcome';

export type Scheme = 'basic' | 'ntlm' | 'negotiate' | 'bearer';

/** The schemes of a WWW-Authenticate header (several challenges, with quoted parameters that may hold commas). */
export function offeredSchemes(header: string | undefined): Set<Scheme> {
  const schemes = new Set<Scheme>();
  // Quoted strings out first, then each challenge starts with a token followed by a space, a token68 or the end.
  const plain = (header ?? '').replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of plain.matchAll(/(?:^|,)\s*([A-Za-z][\w-]*)(?=\s|,|$)/g)) {
    const name = m[1]!.toLowerCase();
    if (name === 'basic' || name === 'ntlm' || name === 'negotiate' || name === 'bearer') schemes.add(name);
  }
  return schemes;
}

const usesScheme: Partial<Record<AuthType, Scheme>> = {
  basic: 'basic',
  ntlm: 'ntlm',
  'oauth2-client-credentials': 'bearer',
  'managed-identity': 'bearer',
};

/**
 * A refusal that is not about the password but about the kind of authentication: the server does not offer
 * the connector's scheme. Undefined when it does (or says nothing), so the refusal stays auth.rejected.
 */
export function schemeMismatch(
  authType: AuthType,
  wwwAuthenticate: string | undefined,
): Pick<Outcome, 'kind' | 'code' | 'message'> | undefined {
  const offered = offeredSchemes(wwwAuthenticate);
  const mine = usesScheme[authType];
  if (offered.size === 0 || !mine || offered.has(mine)) return undefined;
  const list = [...offered].map((s) => (s === 'ntlm' ? 'NTLM' : s[0]!.toUpperCase() + s.slice(1))).join(', ');
  if (offered.has('negotiate') && !offered.has('ntlm') && !offered.has('basic'))
    return {
      kind: 'permanent',
      code: 'auth.kerberos-only',
      message: `the server offers only Negotiate (Kerberos), which this service cannot use; allow NTLM on the server (Windows authentication providers: Negotiate and NTLM) or switch the server instance to NavUserPassword and use authType basic`,
    };
  if (offered.has('ntlm'))
    return {
      kind: 'permanent',
      code: 'auth.scheme-mismatch',
      message: `the server asks for Windows authentication (it offers ${list}); set authType ntlm and login DOMAIN\\user`,
    };
  if (offered.has('basic'))
    return {
      kind: 'permanent',
      code: 'auth.scheme-mismatch',
      message: `the server asks for Basic authentication (it offers ${list}); set authType basic with the user name and its web service access key or password`,
    };
  return {
    kind: 'permanent',
    code: 'auth.scheme-mismatch',
    message: `the server asks for a bearer token (it offers ${list}); use authType oauth2-client-credentials`,
  };
}
