// Validates Microsoft Entra ID access tokens with jose: the signature against the tenant's keys (found by
// OpenID discovery, cached, refreshed when a token names an unknown key), the issuer, the audience, expiry and
// not-before with a small clock skew, and only asymmetric algorithms ("none" and HS* are refused).
import { type Actor, localActor } from '../model/audit';
import { DependencyError, ForbiddenError, UnauthorizedError } from '../platform/errors';
import type { Role } from './roles';

/** The token's claims (jose is an ES module, loaded on first use; its types are not imported here). */
type Claims = Record<string, unknown>;
/** jose's remote key set: a function from a token's header to its key. */
type KeySet = (...args: never[]) => Promise<unknown>;

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const CLOCK_SKEW_SECONDS = 120;
const KEY_REFETCH_COOLDOWN_MS = 5_000;

export interface EntraSettings {
  authorityHost: string;
  tenantId: string;
  audience: string;
}

export interface Authenticator {
  /** The caller, when the request carries a valid token with the role; throws 401/403 otherwise. */
  authenticate(authorization: string | null, role: Role): Promise<Actor>;
}

/** AUTH_MODE=off: everyone is "local". Only for running on a developer's machine. */
export const noAuthentication: Authenticator = { authenticate: async () => localActor };

export function createEntraAuthenticator(settings: EntraSettings): Authenticator {
  const issuer = `${settings.authorityHost.replace(/\/+$/, '')}/${settings.tenantId}/v2.0`;
  let keys: Promise<KeySet> | undefined;

  /** The tenant's signing keys, from its discovery document; a failed lookup is tried again next time. */
  const keySet = () => {
    keys ??= (async () => {
      const jose = await import('jose');
      const response = await fetch(`${issuer}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`discovery answered ${response.status}`);
      const { jwks_uri } = (await response.json()) as { jwks_uri?: string };
      if (!jwks_uri) throw new Error('the discovery document has no jwks_uri');
      // A token naming an unknown key makes jose fetch the keys again, at most once per cooldown.
      return jose.createRemoteJWKSet(new URL(jwks_uri), {
        timeoutDuration: 10_000,
        cooldownDuration: KEY_REFETCH_COOLDOWN_MS,
      });
    })();
    keys.catch(() => {
      keys = undefined;
    });
    return keys;
  };

  return {
    async authenticate(authorization, role) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      if (!token)
        throw new UnauthorizedError(
          'Send a Microsoft Entra ID access token as "Authorization: Bearer <token>".',
          false,
        );
      const jose = await import('jose');
      let claims: Claims;
      try {
        const verified = await jose.jwtVerify(
          token,
          (await keySet()) as Parameters<typeof jose.jwtVerify>[1] & KeySet,
          {
            issuer,
            audience: settings.audience,
            algorithms: ASYMMETRIC_ALGORITHMS,
            clockTolerance: CLOCK_SKEW_SECONDS,
            requiredClaims: ['exp'],
          },
        );
        claims = verified.payload;
      } catch (error) {
        throw refusal(error);
      }
      const granted = Array.isArray(claims.roles) ? claims.roles.map(String) : [];
      if (!granted.includes(role))
        throw new ForbiddenError(
          `This operation needs the ${role} role; the token has ${granted.length ? granted.join(', ') : 'no roles'}.`,
        );
      return actorOf(claims);
    },
  };
}

/** Why a token was refused, as a 401; a key lookup that failed for lack of Entra is a 503 instead. */
function refusal(error: unknown): Error {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  if (code === 'ERR_JWKS_TIMEOUT' || /discovery|fetch failed|ECONNREFUSED|jwks_uri/i.test(message))
    return new DependencyError(
      'The token signing keys could not be fetched from Microsoft Entra ID.',
      'auth-unavailable',
      {
        cause: error,
      },
    );
  const reasons: Record<string, string> = {
    ERR_JWT_EXPIRED: 'the token has expired',
    ERR_JWT_CLAIM_VALIDATION_FAILED: `the token's ${(error as { claim?: string }).claim ?? 'claims'} is not accepted (issuer, audience or not-before)`,
    ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the token signature does not verify',
    ERR_JWKS_NO_MATCHING_KEY: 'the token is signed with a key the tenant does not publish',
    ERR_JOSE_ALG_NOT_ALLOWED: 'the token uses an algorithm that is not accepted (only asymmetric signatures)',
    ERR_JWS_INVALID: 'the token is not a well-formed JWS',
    ERR_JWT_INVALID: 'the token is not a well-formed JWT',
  };
  return new UnauthorizedError(`The bearer token is not valid: ${reasons[code] ?? 'it could not be verified'}.`, true);
}

function actorOf(claims: Claims): Actor {
  const text = (key: string) => (typeof claims[key] === 'string' ? (claims[key] as string) : null);
  const app = text('idtyp') === 'app' || (!text('scp') && !text('upn') && !text('preferred_username'));
  return {
    kind: app ? 'app' : 'user',
    objectId: text('oid'),
    appId: text('azp') ?? text('appid'),
    name: text('name') ?? text('preferred_username') ?? text('upn') ?? text('app_displayname'),
  };
}
