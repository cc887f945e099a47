// What one attempt to reach a back office came to: one of four outcomes with a stable, documented code.
// docs/codes.md is generated from this catalogue (npm run docs) and held to it by a test.
import type { CodeEntry } from './codeEntry';

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

/** Every code an attempt can end in: what it means, and what to do about it (`help`, shown with failures). */
export const outcomeCodes = {
  delivered: { meaning: 'accepted (200/201/202/204)', help: 'nothing' },
  duplicate: {
    meaning: 'the back office already had this change (409, or Internal_EntityWithSameKeyExists); counts as delivered',
    help: 'nothing: the deterministic body id makes redelivery harmless',
  },
  'config.credentials-unparseable': {
    meaning: 'the stored password does not follow client_id=...&client_secret=...',
    help: 'PUT the connector with the password in the form client_id={id}&client_secret={secret value}',
  },
  'config.secret-missing': {
    meaning: 'the connector says it has a password but Key Vault has no such secret version',
    help: 'PUT the connector with its password again',
  },
  'config.address-blocked': {
    meaning:
      'the host is or resolves to an address that is not globally reachable (loopback, private, link-local, metadata, special-purpose)',
    help: "use the back office's public https address",
  },
  'secrets.unavailable': {
    meaning: 'Key Vault could not be read (an outage, throttling)',
    help: "nothing: retried; if it persists, check the app identity's Key Vault Secrets Officer role and the vault's network rules",
  },
  'auth.invalid-client-secret': {
    meaning: 'Entra refused the client secret (AADSTS7000215): wrong, or the secret ID was used instead of its value',
    help: 'create a new client secret in the app registration and PUT the connector with its value (not its ID)',
  },
  'auth.secret-expired': {
    meaning: 'Entra says the client secret has expired (AADSTS7000222)',
    help: 'create a new client secret and PUT the connector with it (and its secretExpiresAt)',
  },
  'auth.invalid-client': {
    meaning: 'Entra does not know the client id in this tenant (AADSTS700016), or it is disabled',
    help: 'check client_id in the password and the tenant in login',
  },
  'auth.invalid-tenant': {
    meaning: 'Entra does not know the tenant (AADSTS90002)',
    help: "login must be the tenant's GUID or one of its verified domains",
  },
  'auth.invalid-scope': {
    meaning: 'Entra refused the scope (AADSTS1002012 / AADSTS70011)',
    help: 'report it: the scope is fixed to https://api.businesscentral.dynamics.com/.default',
  },
  'auth.token-failed': {
    meaning:
      'Entra refused the token request for another reason that names the configuration; the message carries the AADSTS number',
    help: 'look the AADSTS number up in the Entra error reference and fix the app registration it names',
  },
  'auth.token-unavailable': {
    meaning: 'the token service failed (5xx, AADSTS50000), throttled or could not be reached',
    help: 'nothing: retried later',
  },
  'auth.empty-token': {
    meaning: 'the token service answered 2xx without an access token',
    help: 'nothing: retried; report it if it persists',
  },
  'auth.managed-identity-failed': {
    meaning: 'the managed identity endpoint refused: no identity, or AZURE_CLIENT_ID wrong',
    help: "set AZURE_CLIENT_ID to the app's user-assigned identity; locally, give the connector a login and password",
  },
  'auth.managed-identity-unavailable': {
    meaning: 'the managed identity endpoint failed or could not be reached',
    help: 'nothing: retried',
  },
  'auth.rejected': {
    meaning: 'the back office refused the credentials (401/403) even after a fresh token',
    help: 'BC online: register and enable the client id on the Microsoft Entra Applications page and assign permission sets; on-premises: check the user and web service access key (with ntlm, the Windows password)',
  },
  'auth.scheme-mismatch': {
    meaning:
      "the server asks for another kind of authentication than the connector's authType; the message names what it offers and which authType fits",
    help: 'set the authType (and login form) the message names',
  },
  'auth.kerberos-only': {
    meaning: 'the server offers only Negotiate (Kerberos) without NTLM, which a service outside the domain cannot use',
    help: 'enable the NTLM provider next to Negotiate on the server, or use NavUserPassword with basic',
  },
  'auth.ntlm-handshake-failed': {
    meaning:
      'the NTLM handshake broke: no usable challenge (an NTLMv1-only server), or the connection closed between the challenge and the answer',
    help: 'keep connections alive through any proxy or load balancer in front of the server; allow NTLMv2',
  },
  'http.redirect': {
    meaning: 'the back office redirected; redirects are never followed (a token must not follow them)',
    help: 'put the final URL in webServiceUri',
  },
  'http.not-found': {
    meaning: 'the endpoint does not exist (404): wrong company, environment, API page or service name',
    help: 'check webServiceUri; publish the page or install the extension',
  },
  'http.not-allowed': {
    meaning: 'the endpoint refuses the method (405): on-premises APIs may be disabled (ApiServicesEnabled)',
    help: 'enable the API, OData or SOAP service on the server instance',
  },
  'http.too-large': { meaning: 'the back office refused the body as too large (413)', help: 'report it' },
  'http.rejected': {
    meaning: "the back office refused the change (another 4xx); the message is the back office's",
    help: 'fix the data or the back-office setup the message names, then replay the delivery',
  },
  'http.throttled': {
    meaning: 'the back office is throttling (429)',
    help: "nothing: retried after Retry-After or a back-off; the principal's budget pauses too",
  },
  'http.timeout': { meaning: 'the back office timed out (408/504)', help: 'nothing: retried' },
  'http.server-error': { meaning: 'the back office failed (5xx)', help: 'nothing: retried' },
  'soap.fault': {
    meaning: 'the SOAP service answered with a fault (unknown service, validation)',
    help: 'read the message; check the page is published as the service in the URI',
  },
  'soap.busy': { meaning: 'the SOAP service is busy or timed out', help: 'nothing: retried' },
  'net.timeout': {
    meaning: 'no complete answer in time',
    help: 'nothing: retried; a firewall in front of an on-premises server is the usual cause',
  },
  'net.connect-timeout': { meaning: 'could not connect in time', help: 'open the firewall to the back office' },
  'net.connection-failed': { meaning: 'the connection was refused or reset', help: 'check host and port; retried' },
  'net.dns-failed': { meaning: 'the host name does not resolve', help: 'check the host name; retried' },
  'net.tls-failed': {
    meaning: 'the TLS handshake failed (an expired or self-signed certificate, a name mismatch)',
    help: "fix the server's certificate; retried",
  },
  'net.response-too-large': { meaning: 'the answer exceeded the 1 MiB cap', help: 'report it' },
} as const satisfies Record<string, CodeEntry>;

export type OutcomeCode = keyof typeof outcomeCodes;

/** The outcome's message with the back office's or Entra's own code in front, once (Entra's messages start with it). */
export const messageWithCode = (o: Pick<Outcome, 'message' | 'upstreamCode'>): string =>
  o.upstreamCode && !o.message.includes(o.upstreamCode) ? `${o.upstreamCode}: ${o.message}` : o.message;

export const isDelivered = (outcome: Pick<Outcome, 'kind'>): boolean =>
  outcome.kind === 'delivered' || outcome.kind === 'duplicate';
