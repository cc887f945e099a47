// What one attempt to reach a back office came to: one of four outcomes with a stable, documented code.
// The README's result-code table is held to this catalogue by a test.

export type OutcomeKind = 'delivered' | 'duplicate' | 'transient' | 'permanent';

export interface Outcome {
  kind: OutcomeKind;
  /** A back-office result code, or the sync's own for a crash (sync.poisoned). */
  code: OutcomeCode | 'sync.poisoned';
  message: string;
  status?: number;
  retryAfterMs?: number;
  durationMs: number;
  /** The back office's or Entra's own error code (e.g. Internal_EntityWithSameKeyExists, AADSTS7000215). */
  upstreamCode?: string;
}

export const outcomeCodes = {
  delivered: 'the back office accepted the change (200/201/202/204)',
  duplicate: 'the back office already had this change (409, or Internal_EntityWithSameKeyExists); counts as delivered',
  'config.credentials-unparseable': 'the stored password does not follow client_id=...&client_secret=...',
  'config.secret-missing': 'the connector says it has a password but Key Vault has no such secret version',
  'config.address-blocked': 'the host resolves to a loopback, private, link-local or metadata address',
  'secrets.unavailable': 'Key Vault could not be read (an outage or throttling); retried',
  'auth.invalid-client-secret':
    'Entra refused the client secret (AADSTS7000215): wrong, or the secret ID was used instead of its value',
  'auth.secret-expired': 'Entra says the client secret has expired (AADSTS7000222)',
  'auth.invalid-client': 'Entra does not know the client id in this tenant (AADSTS700016)',
  'auth.invalid-tenant': 'Entra does not know the tenant (AADSTS90002)',
  'auth.invalid-scope': 'Entra refused the scope (AADSTS1002012 / AADSTS70011)',
  'auth.token-failed':
    'Entra refused the token request for a reason that names the configuration (see the AADSTS code)',
  'auth.token-unavailable': 'the token service failed, throttled or could not be reached; retried',
  'auth.empty-token': 'the token service answered 2xx without an access token; retried',
  'auth.managed-identity-failed': 'the managed identity endpoint refused: no identity, or AZURE_CLIENT_ID wrong',
  'auth.managed-identity-unavailable': 'the managed identity endpoint failed or could not be reached; retried',
  'auth.rejected': 'the back office refused the credentials (401/403) even after a fresh token',
  'auth.scheme-mismatch':
    "the server asks for another kind of authentication than the connector's authType (its WWW-Authenticate names it)",
  'auth.kerberos-only': 'the server offers only Negotiate (Kerberos), which the service cannot use; allow NTLM',
  'auth.ntlm-handshake-failed':
    'the NTLM handshake broke: no usable challenge, or the connection closed in between (a proxy?)',
  'http.redirect': 'the back office answered with a redirect; redirects are not followed (fix webServiceUri)',
  'http.not-found': 'the endpoint does not exist (404): wrong company, environment, page or service name',
  'http.not-allowed': 'the endpoint refuses the method (405): on-premises APIs may be disabled (ApiServicesEnabled)',
  'http.too-large': 'the back office refused the body as too large (413)',
  'http.rejected': 'the back office refused the change (another 4xx); the message says why',
  'http.throttled': 'the back office is throttling (429); retried after Retry-After or back-off',
  'http.timeout': 'the back office timed out (408/504); retried',
  'http.server-error': 'the back office failed (5xx); retried',
  'soap.fault': 'the SOAP service answered with a fault; the message says why',
  'soap.busy': 'the SOAP service is busy or timed out; retried',
  'net.timeout': 'no complete answer in time; retried',
  'net.connect-timeout': 'could not connect in time (a firewall?); retried',
  'net.connection-failed': 'the connection was refused or reset; retried',
  'net.dns-failed': 'the host name does not resolve; retried',
  'net.tls-failed': 'the TLS handshake failed (certificate or protocol); retried',
  'net.response-too-large': 'the answer exceeded the size cap',
} as const;

export type OutcomeCode = keyof typeof outcomeCodes;

export const isDelivered = (outcome: Pick<Outcome, 'kind'>): boolean =>
  outcome.kind === 'delivered' || outcome.kind === 'duplicate';
