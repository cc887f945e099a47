// Bearer tokens for Business Central: OAuth 2.0 client credentials through MSAL (one long-lived confidential
// client per tenant + client id + secret, so its cache is reused and a rotated secret gets a new client), or
// the app's managed identity through MSAL's managed identity client (which, unlike @azure/identity's
// credential, can be told to skip its cache after a 401).
//
// A failure is permanent only when the answer names a configuration problem (the client, its secret, the
// tenant, the scope, a missing identity); an outage, a 5xx, throttling or a timeout is transient and retried.
import { createHash } from 'node:crypto';
import type { ConfidentialClientApplication, INetworkModule, ManagedIdentityApplication } from '@azure/msal-node';
import type { OutcomeCode } from '../model/outcome';
import { registerSecret } from '../platform/redact';
import { type StageOutcome, TokenError } from './stageError';

export const BUSINESS_CENTRAL_SCOPE = 'https://api.businesscentral.dynamics.com/.default';
const BUSINESS_CENTRAL_RESOURCE = 'https://api.businesscentral.dynamics.com';
const PUBLIC_CLOUD = 'https://login.microsoftonline.com';
const MAX_CLIENTS = 500;

export interface TokenService {
  clientCredentials(tenant: string, clientId: string, clientSecret: string, forceRefresh: boolean): Promise<string>;
  managedIdentity(forceRefresh: boolean): Promise<string>;
}

export interface TokenServiceOptions {
  entraAuthorityHost: string;
  managedIdentityClientId?: string;
  /** The longest one call to Entra or the managed identity endpoint may take (30 s when not given). */
  timeoutMs?: number;
  /** Test seam: MSAL's network module (defaults to fetch, with timeouts). */
  network?: INetworkModule;
}

const isLoopbackHttp = (url: string) => /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i.test(url);

/**
 * After a 429 or 5xx from the token endpoint (or any failure with Retry-After), MSAL refuses token calls for
 * that client without asking Entra, for the Retry-After or 60 s (at most an hour). The sync must not retry
 * into that refusal on its own schedule (5 s, 30 s, 2 min ...) and resume minutes after Entra is back: it is
 * told when the refusal ends, and tries again then. MSAL's own rule, computed from the same answer.
 */
const MSAL_DEFAULT_THROTTLE_MS = 60_000;
const MSAL_MAX_THROTTLE_MS = 3_600_000;
/** A moment past the end of MSAL's refusal, so the retry does not meet its last millisecond. */
const AFTER_THROTTLE_MS = 1_000;

export function msalThrottleMs(status: number, retryAfter: string | undefined): number | undefined {
  const seconds = Number.parseInt(retryAfter ?? '', 10);
  if (!(status === 429 || (status >= 500 && status < 600) || (status >= 300 && !Number.isNaN(seconds))))
    return undefined;
  return Math.min(seconds > 0 ? seconds * 1000 : MSAL_DEFAULT_THROTTLE_MS, MSAL_MAX_THROTTLE_MS);
}

/** Until when MSAL refuses token calls of a tenant + client, from the token endpoint answers seen. */
type Throttles = Map<string, number>;
const throttleKey = (tenant: string, clientId: string) => `${tenant.toLowerCase()}|${clientId.toLowerCase()}`;

/**
 * MSAL's network module over fetch: a timeout on every call, an error answer that is not JSON (a gateway's
 * HTML 503) turned into an OAuth error MSAL throws instead of an empty token, the answers that make MSAL pause
 * a client noted (`throttles`), and, for tests, the public-cloud URLs MSAL builds sent to a loopback fake.
 */
function networkClient(rewriteTo: string | undefined, timeoutMs: number, throttles?: Throttles): INetworkModule {
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    options?: { headers?: Record<string, string>; body?: string },
  ) => {
    const res = await fetch(rewriteTo ? url.replace(PUBLIC_CLOUD, rewriteTo) : url, {
      method,
      headers: options?.headers,
      body: method === 'POST' ? (options?.body ?? '') : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const text = await res.text();
    const pauseMs = msalThrottleMs(res.status, headers['retry-after']);
    const clientId = new URLSearchParams(options?.body ?? '').get('client_id');
    const tenant = /^\/([^/]+)\//.exec(new URL(url).pathname)?.[1];
    if (throttles && pauseMs !== undefined && clientId && tenant)
      throttles.set(throttleKey(tenant, clientId), Date.now() + pauseMs);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON: described below when it is an error
    }
    if (res.status >= 400 && typeof body.error !== 'string') {
      body = {
        error: res.status >= 500 || res.status === 429 ? 'temporarily_unavailable' : 'invalid_request',
        error_description: `The token service answered HTTP ${res.status} without an OAuth error.`,
      };
    }
    return { headers, body, status: res.status } as never;
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options as never),
    sendPostRequestAsync: (url, options) => send('POST', url, options as never),
  };
}

/** AADSTS numbers that name a configuration problem, and the code each gets. */
const CONFIGURATION_AADSTS: Record<string, OutcomeCode> = {
  '7000215': 'auth.invalid-client-secret',
  '7000222': 'auth.secret-expired',
  '700016': 'auth.invalid-client',
  '7000112': 'auth.invalid-client',
  '90002': 'auth.invalid-tenant',
  '900023': 'auth.invalid-tenant',
  '90072': 'auth.invalid-tenant',
  '1002012': 'auth.invalid-scope',
  '70011': 'auth.invalid-scope',
  '500011': 'auth.invalid-scope',
};

/** OAuth error codes of answers about the request itself (RFC 6749 5.2), not about the service's health. */
const CONFIGURATION_ERRORS = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'invalid_grant',
  'invalid_request',
  'unsupported_grant_type',
]);

const secretHint: Partial<Record<OutcomeCode, string>> = {
  'auth.secret-expired':
    'create a new client secret in the app registration and PUT the connector with client_id=...&client_secret=<new value>',
};

/** MSAL errors to outcomes. */
export function tokenErrorFrom(error: unknown): TokenError {
  const e = error as {
    errorCode?: string;
    errorMessage?: string;
    message?: string;
    status?: number;
    errorNo?: string | number;
  };
  const text = `${e.errorMessage ?? ''} ${e.message ?? ''}`;
  const aadsts = e.errorNo !== undefined && e.errorNo !== '' ? String(e.errorNo) : /AADSTS(\d+)/.exec(text)?.[1];
  const raw = e.errorMessage || e.message || 'token request failed';
  // MSAL prefixes "Error(s): 7000215 - Timestamp: ... - Description: "; the AADSTS text is what a user needs.
  const firstLine = raw
    .slice(Math.max(0, raw.indexOf('AADSTS')))
    .split(/\r?\n|Trace ID:| - Correlation ID:/)[0]!
    .trim()
    .slice(0, 300);
  const status = typeof e.status === 'number' ? e.status : undefined;
  const outage =
    status === undefined
      ? !CONFIGURATION_ERRORS.has(e.errorCode ?? '')
      : status >= 500 || status === 429 || status === 408;
  const named = aadsts ? CONFIGURATION_AADSTS[aadsts] : undefined;
  if (!outage && (named || CONFIGURATION_ERRORS.has(e.errorCode ?? ''))) {
    const code = named ?? 'auth.token-failed';
    const hint = secretHint[code];
    return new TokenError({
      kind: 'permanent',
      code,
      message: hint ? `${firstLine}; ${hint}` : firstLine,
      ...(aadsts ? { upstreamCode: `AADSTS${aadsts}` } : {}),
    });
  }
  return new TokenError({
    kind: 'transient',
    code: 'auth.token-unavailable',
    message: `the token service failed or is throttling${status ? ` (HTTP ${status})` : ''}: ${firstLine.slice(0, 200)}`,
    ...(aadsts ? { upstreamCode: `AADSTS${aadsts}` } : {}),
  });
}

/**
 * MSAL's managed identity errors to outcomes. The endpoint failing, throttling or out of reach is transient;
 * refusing the identity (4xx), or no identity endpoint at all (not in Azure), is permanent.
 */
export function managedIdentityErrorFrom(error: unknown, notInAzure: boolean): TokenError {
  const e = error as { errorCode?: string; errorMessage?: string; message?: string; status?: number };
  const message = (e.errorMessage || e.message || 'no token').split('\n')[0]!.slice(0, 200);
  const status = typeof e.status === 'number' ? e.status : undefined;
  const refused = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
  if (refused || (notInAzure && status === undefined))
    return new TokenError({
      kind: 'permanent',
      code: 'auth.managed-identity-failed',
      message: notInAzure
        ? 'there is no managed identity here (not running in Azure); set login and password instead'
        : `the managed identity endpoint refused (HTTP ${status}): ${message}`,
    });
  return new TokenError({
    kind: 'transient',
    code: 'auth.managed-identity-unavailable',
    message: `the managed identity endpoint failed${status ? ` (HTTP ${status})` : ''}: ${message}`,
  });
}

const emptyToken: StageOutcome = {
  kind: 'transient',
  code: 'auth.empty-token',
  message: 'the token service answered without an access token',
};

export function createTokenService(options: TokenServiceOptions): TokenService {
  const authorityHost = options.entraAuthorityHost.replace(/\/+$/, '');
  const viaFake = isLoopbackHttp(authorityHost);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const throttles: Throttles = new Map();
  const network = options.network ?? networkClient(viaFake ? authorityHost : undefined, timeoutMs, throttles);
  // Least recently used first; each client holds its secret's registration with the redactor until evicted.
  const clients = new Map<string, { client: ConfidentialClientApplication; release: () => void }>();
  // Single flight: concurrent first deliveries share one token request instead of racing MSAL's empty cache.
  const inFlight = new Map<ConfidentialClientApplication, Promise<string>>();
  let managed: ManagedIdentityApplication | undefined;

  const clientFor = (tenant: string, clientId: string, clientSecret: string) => {
    // The secret is part of the key (hashed): a rotated secret must not reuse the old client's cache.
    const key = `${tenant.toLowerCase()}|${clientId.toLowerCase()}|${createHash('sha256').update(clientSecret).digest('hex')}`;
    const found = clients.get(key);
    if (found) {
      clients.delete(key);
      clients.set(key, found);
      return found.client;
    }
    const { ConfidentialClientApplication } = require('@azure/msal-node') as typeof import('@azure/msal-node');
    const client = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, authority: `${viaFake ? PUBLIC_CLOUD : authorityHost}/${tenant}` },
      system: {
        networkClient: network,
        loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => undefined },
      },
    });
    clients.set(key, { client, release: registerSecret(clientSecret) });
    if (clients.size > MAX_CLIENTS) {
      const [oldestKey, oldest] = clients.entries().next().value!;
      clients.delete(oldestKey);
      oldest.release();
    }
    return client;
  };

  const managedIdentity = (): ManagedIdentityApplication => {
    if (!managed) {
      const { ManagedIdentityApplication } = require('@azure/msal-node') as typeof import('@azure/msal-node');
      managed = new ManagedIdentityApplication({
        ...(options.managedIdentityClientId
          ? { managedIdentityIdParams: { userAssignedClientId: options.managedIdentityClientId } }
          : {}),
        // The sync retries on its own schedule; MSAL's retries would hold a delivery for seconds.
        system: { networkClient: networkClient(undefined, timeoutMs), disableInternalRetries: true },
      });
    }
    return managed;
  };

  return {
    async clientCredentials(tenant, clientId, clientSecret, forceRefresh) {
      const client = clientFor(tenant, clientId, clientSecret);
      const pending = inFlight.get(client);
      if (pending && !forceRefresh) return pending;
      const request = (async () => {
        let result: Awaited<ReturnType<ConfidentialClientApplication['acquireTokenByClientCredential']>>;
        try {
          result = await client.acquireTokenByClientCredential({
            scopes: [BUSINESS_CENTRAL_SCOPE],
            skipCache: forceRefresh,
          });
        } catch (error) {
          const failure = tokenErrorFrom(error);
          const until = throttles.get(throttleKey(tenant, clientId));
          if (failure.outcome.kind !== 'transient' || until === undefined || until <= Date.now()) throw failure;
          throw new TokenError({ ...failure.outcome, retryAfterMs: until - Date.now() + AFTER_THROTTLE_MS });
        }
        // MSAL resolves a 2xx without access_token as an empty token instead of failing.
        if (!result?.accessToken) throw new TokenError(emptyToken);
        return result.accessToken;
      })();
      inFlight.set(client, request);
      try {
        return await request;
      } finally {
        if (inFlight.get(client) === request) inFlight.delete(client);
      }
    },
    async managedIdentity(forceRefresh) {
      const app = managedIdentity();
      let token: Awaited<ReturnType<ManagedIdentityApplication['acquireToken']>>;
      try {
        token = await app.acquireToken({ resource: BUSINESS_CENTRAL_RESOURCE, forceRefresh });
      } catch (error) {
        throw managedIdentityErrorFrom(error, app.getManagedIdentitySource() === 'DefaultToImds');
      }
      if (!token?.accessToken) throw new TokenError(emptyToken);
      return token.accessToken;
    },
  };
}
