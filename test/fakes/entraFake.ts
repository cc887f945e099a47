// A Microsoft Entra token endpoint (client credentials) on loopback, reached through MSAL's network client.
// Built from reference/business-central.md section 10.1.
import { createHmac, createSign, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { HttpFake, jsonReply, type Reply } from './httpFake';

export const BC_AUDIENCE = 'https://api.businesscentral.dynamics.com';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeJwt(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function entraError(status: number, error: string, aadsts: number, description: string): Reply {
  const now = new Date().toISOString();
  return jsonReply(status, {
    error,
    error_description: `AADSTS${aadsts}: ${description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${now}`,
    error_codes: [aadsts],
    timestamp: now,
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  });
}

/** What a test can choose of an access token for this API (the defaults make a valid one). */
export interface ApiTokenOptions {
  roles?: string[];
  /** A person signed in (delegated: scp, preferred_username), or an application on its own (the default). */
  kind?: 'user' | 'app';
  oid?: string;
  appid?: string;
  name?: string;
  aud?: string;
  iss?: string;
  /** Seconds from now. */
  expiresIn?: number;
  notBeforeIn?: number;
  /** Sign with a key the discovery document does not list (yet). */
  unpublishedKey?: boolean;
  alg?: 'RS256' | 'none' | 'HS256-with-public-key';
  /** Flip a byte of the signature. */
  badSignature?: boolean;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
  publicPem: string;
}

function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  return {
    kid,
    privateKey,
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, use: 'sig', alg: 'RS256' },
    publicPem: String(publicKey.export({ format: 'pem', type: 'spki' })),
  };
}

export class EntraFake {
  readonly http: HttpFake;
  /** Keys the tenant publishes for tokens of this API; `pending` signs but is published only after `publishPending`. */
  readonly keys: SigningKey[] = [newSigningKey()];
  pending: SigningKey | undefined;
  keyRequests = 0;
  discoveryRequests = 0;
  /** The audience callers' tokens carry for this API (AUTH_AUDIENCE). */
  apiAudience = 'api://backoffice-connector-test';
  /** tenant -> client id -> secret */
  readonly apps = new Map<string, Map<string, string>>();
  tokenRequests = 0;
  issued = 0;
  expiresIn = 3599;
  omitAccessToken = false;
  /** Next token requests fail like this while times > 0: an Entra error (AADSTS number), or an HTML page. */
  failWith:
    | {
        status: number;
        retryAfterSeconds?: number;
        times: number;
        aadsts?: number;
        error?: string;
        description?: string;
        html?: boolean;
      }
    | undefined;
  /** Client ids whose secret has expired (AADSTS7000222). */
  readonly expiredSecrets = new Set<string>();

  constructor() {
    this.http = new HttpFake((req) => this.#handle(req));
  }

  register(tenant: string, clientId: string, secret: string): this {
    if (!this.apps.has(tenant)) this.apps.set(tenant, new Map());
    this.apps.get(tenant)!.set(clientId.toLowerCase(), secret);
    return this;
  }

  start = () => this.http.start();
  stop = () => this.http.stop();
  get url() {
    return this.http.url;
  }

  /** The App Service / Functions managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER). */
  readonly managedIdentity = {
    header: 'local-identity-header',
    clientId: '33333333-4444-5555-6666-777777777777',
    tenant: '',
    requests: 0,
    /** Next identity requests fail with this status while times > 0. */
    failWith: undefined as { status: number; times: number } | undefined,
  };

  /** A signed access token for this API, as Entra would issue it to a caller with app roles. */
  apiToken(tenant: string, options: ApiTokenOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    let key = this.keys[0]!;
    if (options.unpublishedKey) {
      this.pending ??= newSigningKey();
      key = this.pending;
    }
    const alg = options.alg ?? 'RS256';
    const header = { alg: alg === 'HS256-with-public-key' ? 'HS256' : alg, typ: 'JWT', kid: key.kid };
    const payload = {
      aud: options.aud ?? this.apiAudience,
      iss: options.iss ?? `${this.url}/${tenant}/v2.0`,
      tid: tenant,
      oid: options.oid ?? randomUUID(),
      azp: options.appid ?? '22222222-3333-4444-5555-666666666666',
      ...(options.name ? { name: options.name } : {}),
      ...(options.kind === 'user'
        ? {
            scp: 'access_as_user',
            preferred_username: `${(options.name ?? 'user').toLowerCase().replace(/\s+/g, '.')}@contoso.example`,
          }
        : { idtyp: 'app' }),
      roles: options.roles ?? [],
      iat: now,
      nbf: now + (options.notBeforeIn ?? 0),
      exp: now + (options.expiresIn ?? 3600),
    };
    const signingInput = `${b64url(header)}.${b64url(payload)}`;
    if (alg === 'none') return `${signingInput}.`;
    let signature =
      alg === 'HS256-with-public-key'
        ? createHmac('sha256', key.publicPem).update(signingInput).digest()
        : createSign('RSA-SHA256').update(signingInput).sign(key.privateKey);
    if (options.badSignature) signature = Buffer.from(signature.map((b, i) => (i === 10 ? b ^ 0xff : b)));
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** The tenant starts to publish the key that signed `unpublishedKey` tokens (a key rollover). */
  publishPending(): void {
    if (this.pending) this.keys.push(this.pending);
    this.pending = undefined;
  }

  #handle(req: {
    method: string;
    path: string;
    query?: URLSearchParams;
    headers: Record<string, string>;
    body: string;
  }): Reply {
    if (req.path === '/msi/token') return this.#managedIdentityToken(req);
    const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(req.path);
    if (discovery) {
      this.discoveryRequests++;
      const tenant = discovery[1]!;
      return jsonReply(200, {
        issuer: `${this.url}/${tenant}/v2.0`,
        jwks_uri: `${this.url}/${tenant}/discovery/v2.0/keys`,
        token_endpoint: `${this.url}/${tenant}/oauth2/v2.0/token`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(req.path)) {
      this.keyRequests++;
      return jsonReply(200, { keys: this.keys.map((k) => k.publicJwk) });
    }
    // `npm run fakes`: a token for trying the API by hand, with the roles asked for.
    const byHand = /^\/_fake\/api-token\/([^/]+)$/.exec(req.path);
    if (byHand && req.method === 'POST') {
      let asked: { roles?: unknown; name?: unknown };
      try {
        asked = JSON.parse(req.body || '{}') as typeof asked;
      } catch {
        return jsonReply(400, { error: 'invalid_request', error_description: 'the body is not JSON' });
      }
      // A misspelt parameter ("role") would give a token without roles and a puzzling 403 later: say so now.
      const unknown = Object.keys(asked).filter((k) => k !== 'roles' && k !== 'name');
      const rolesOk =
        asked.roles === undefined || (Array.isArray(asked.roles) && asked.roles.every((r) => typeof r === 'string'));
      if (unknown.length || !rolesOk || (asked.name !== undefined && typeof asked.name !== 'string'))
        return jsonReply(400, {
          error: 'invalid_request',
          error_description: `takes {"roles": ["Connectors.Manage", ...], "name": "..."}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
        });
      return jsonReply(200, {
        access_token: this.apiToken(byHand[1]!, {
          roles: (asked.roles as string[] | undefined) ?? [],
          name: (asked.name as string | undefined) ?? 'by hand',
        }),
      });
    }
    if (req.path === '/_fake/stats') return jsonReply(200, { tokenRequests: this.tokenRequests });
    const m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (!m || req.method !== 'POST') return jsonReply(404, { error: 'not_found' });
    this.tokenRequests++;
    if (this.failWith && this.failWith.times > 0) {
      const f = this.failWith;
      f.times--;
      const reply = (
        f.html
          ? {
              status: f.status,
              headers: { 'content-type': 'text/html' },
              body: '<html><body><h1>Service Unavailable</h1></body></html>',
            }
          : entraError(
              f.status,
              f.error ?? 'temporarily_unavailable',
              f.aadsts ?? 50196,
              f.description ?? 'The server is busy.',
            )
      ) as Exclude<Reply, 'reset'>;
      if (f.retryAfterSeconds !== undefined)
        reply.headers = { ...reply.headers, 'retry-after': String(f.retryAfterSeconds) };
      return reply;
    }
    const tenant = m[1]!;
    const form = new URLSearchParams(req.body);
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      secret = decodeURIComponent(rest.join(':'));
    }
    if (form.get('grant_type') !== 'client_credentials')
      return entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const apps = this.apps.get(tenant);
    if (!apps) return entraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    const scope = form.get('scope') ?? '';
    if (!scope.split(' ').every((s) => s.endsWith('/.default'))) {
      return entraError(
        400,
        'invalid_scope',
        1002012,
        'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.',
      );
    }
    const known = apps.get(clientId.toLowerCase());
    if (known === undefined)
      return entraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory.`,
      );
    if (this.expiredSecrets.has(clientId.toLowerCase()))
      return entraError(
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app.`,
      );
    if (known !== secret)
      return entraError(
        401,
        'invalid_client',
        7000215,
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    if (this.omitAccessToken) return jsonReply(200, { token_type: 'Bearer', expires_in: this.expiresIn });
    return this.#token(tenant, clientId);
  }

  #managedIdentityToken(req: { query?: URLSearchParams; headers: Record<string, string> }): Reply {
    this.managedIdentity.requests++;
    const fail = this.managedIdentity.failWith;
    if (fail && fail.times > 0) {
      fail.times--;
      return jsonReply(fail.status, {
        error: 'service_unavailable',
        error_description: 'The identity endpoint failed.',
      });
    }
    if (req.headers['x-identity-header'] !== this.managedIdentity.header)
      return jsonReply(401, { error: 'invalid identity header' });
    const clientId = req.query?.get('client_id');
    if (clientId && clientId !== this.managedIdentity.clientId)
      return jsonReply(400, { error: 'invalid_request', error_description: 'Identity not found' });
    const reply = this.#token(this.managedIdentity.tenant, this.managedIdentity.clientId) as {
      body: string;
      status: number;
      headers: Record<string, string>;
    };
    const parsed = JSON.parse(reply.body) as { access_token: string; expires_in: number };
    return jsonReply(200, {
      access_token: parsed.access_token,
      expires_on: String(Math.floor(Date.now() / 1000) + parsed.expires_in),
      resource: req.query?.get('resource'),
      token_type: 'Bearer',
      client_id: this.managedIdentity.clientId,
    });
  }

  #token(tenant: string, clientId: string): Reply {
    const now = Math.floor(Date.now() / 1000);
    this.issued++;
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({
      aud: BC_AUDIENCE,
      iss: `https://sts.windows.net/${tenant}/`,
      tid: tenant,
      appid: clientId,
      roles: ['API.ReadWrite.All'],
      iat: now,
      nbf: now,
      exp: now + this.expiresIn,
      n: this.issued,
    })}.`;
    return jsonReply(200, {
      token_type: 'Bearer',
      expires_in: this.expiresIn,
      ext_expires_in: this.expiresIn,
      access_token: token,
    });
  }
}
