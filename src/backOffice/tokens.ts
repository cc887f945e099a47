// Bearer tokens for Business Central: OAuth 2.0 client credentials through MSAL (one long-lived confidential
// client per tenant + client id + secret, so its cache is reused and a rotated secret gets a new client),
// or the app's managed identity through @azure/identity.
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import type { ConfidentialClientApplication, INetworkModule } from '@azure/msal-node';
import { registerSecret } from '../platform/redact';
import type { Outcome, OutcomeCode } from './outcome';

export const BUSINESS_CENTRAL_SCOPE = 'https://api.businesscentral.dynamics.com/.default';
const PUBLIC_CLOUD = 'https://login.microsoftonline.com';

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(readonly outcome: Omit<Outcome, 'durationMs'>) {
    super(outcome.message);
  }
}

export interface TokenService {
  clientCredentials(tenant: string, clientId: string, clientSecret: string, forceRefresh: boolean): Promise<string>;
  managedIdentity(forceRefresh: boolean): Promise<string>;
}

export interface TokenServiceOptions {
  entraAuthorityHost: string;
  managedIdentityClientId?: string;
}

const isLoopbackHttp = (url: string) => /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i.test(url);

/** MSAL's network module over fetch, sending the public-cloud URLs MSAL builds to a loopback fake instead. */
function rewritingNetworkClient(target: string): INetworkModule {
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    options?: { headers?: Record<string, string>; body?: string },
  ) => {
    const res = await fetch(url.replace(PUBLIC_CLOUD, target), {
      method,
      headers: options?.headers,
      body: method === 'POST' ? (options?.body ?? '') : undefined,
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const text = await res.text();
    let body: unknown = {};
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: MSAL reports it from the status
    }
    return { headers, body, status: res.status } as never;
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options as never),
    sendPostRequestAsync: (url, options) => send('POST', url, options as never),
  };
}

const AADSTS_CODES: Record<string, OutcomeCode> = {
  '7000215': 'auth.invalid-client-secret',
  '7000222': 'auth.invalid-client-secret',
  '700016': 'auth.invalid-client',
  '90002': 'auth.invalid-tenant',
  '900023': 'auth.invalid-tenant',
  '1002012': 'auth.invalid-scope',
  '70011': 'auth.invalid-scope',
};

/** MSAL errors to outcomes: AADSTS numbers are surfaced; throttling and outages are transient. */
function tokenErrorFrom(error: unknown): TokenError {
  const e = error as { errorCode?: string; errorMessage?: string; message?: string; status?: number };
  const text = `${e.errorMessage ?? ''} ${e.message ?? ''}`;
  const aadsts = /AADSTS(\d+)/.exec(text)?.[1];
  const busy = /temporarily_unavailable|server_error|request_throttled/.test(`${e.errorCode ?? ''} ${text}`);
  const raw = e.errorMessage ?? e.message ?? 'token request failed';
  // MSAL prefixes "Error(s): 7000215 - Timestamp: ... - Description: "; the AADSTS text is what a user needs.
  const firstLine = raw
    .slice(Math.max(0, raw.indexOf('AADSTS')))
    .split(/\r?\n|Trace ID:| - Correlation ID:/)[0]!
    .trim();
  if (aadsts && !busy) {
    const code = AADSTS_CODES[aadsts] ?? 'auth.token-failed';
    return new TokenError({ kind: 'permanent', code, message: firstLine, upstreamCode: `AADSTS${aadsts}` });
  }
  return new TokenError({
    kind: 'transient',
    code: 'auth.token-unavailable',
    message: `the token service is unavailable or throttling: ${firstLine.slice(0, 200)}`,
  });
}

export function createTokenService(options: TokenServiceOptions): TokenService {
  const authorityHost = options.entraAuthorityHost.replace(/\/+$/, '');
  const viaFake = isLoopbackHttp(authorityHost);
  const clients = new Map<string, ConfidentialClientApplication>();
  // Single flight: concurrent first deliveries share one token request instead of racing MSAL's empty cache.
  const inFlight = new Map<ConfidentialClientApplication, Promise<string>>();
  let managed: TokenCredential | undefined;

  const clientFor = (tenant: string, clientId: string, clientSecret: string) => {
    // The secret is part of the key (hashed): a rotated secret must not reuse the old client's cache.
    const key = `${tenant.toLowerCase()}|${clientId.toLowerCase()}|${createHash('sha256').update(clientSecret).digest('hex')}`;
    let client = clients.get(key);
    if (!client) {
      const { ConfidentialClientApplication } = require('@azure/msal-node') as typeof import('@azure/msal-node');
      client = new ConfidentialClientApplication({
        auth: { clientId, clientSecret, authority: `${viaFake ? PUBLIC_CLOUD : authorityHost}/${tenant}` },
        system: {
          ...(viaFake ? { networkClient: rewritingNetworkClient(authorityHost) } : {}),
          loggerOptions: { piiLoggingEnabled: false, loggerCallback: () => undefined },
        },
      });
      clients.set(key, client);
    }
    return client;
  };

  return {
    async clientCredentials(tenant, clientId, clientSecret, forceRefresh) {
      registerSecret(clientSecret);
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
          throw tokenErrorFrom(error);
        }
        // MSAL resolves a 2xx without access_token as an empty token instead of failing.
        if (!result?.accessToken)
          throw new TokenError({
            kind: 'transient',
            code: 'auth.empty-token',
            message: 'the token service answered without an access token',
          });
        registerSecret(result.accessToken);
        return result.accessToken;
      })();
      inFlight.set(client, request);
      try {
        return await request;
      } finally {
        if (inFlight.get(client) === request) inFlight.delete(client);
      }
    },
    async managedIdentity() {
      if (!managed) {
        const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
        managed = options.managedIdentityClientId
          ? new ManagedIdentityCredential({ clientId: options.managedIdentityClientId })
          : new ManagedIdentityCredential();
      }
      try {
        const token = await managed.getToken(BUSINESS_CENTRAL_SCOPE);
        if (!token?.token) throw new Error('empty token');
        registerSecret(token.token);
        return token.token;
      } catch (error) {
        throw new TokenError({
          kind: 'permanent',
          code: 'auth.managed-identity-failed',
          message: `the managed identity could not get a token: ${((error as Error).message ?? '').split('\n')[0]!.slice(0, 200)}`,
        });
      }
    },
  };
}
