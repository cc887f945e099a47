// The only code that talks to a back office: deliver one change, or test a connection.
// Adapters are chosen by backOffice + apiType; auth by authType.
import { parseOAuthPassword } from '../connectors/credentials';
import type { ApiType, AuthType, BackOffice } from '../connectors/model';
import type { AppointmentChange } from '../sync/message';
import type { Diagnosis, DiagnosisStage } from './diagnosis';
import { NetworkError, type OutboundHttp, type OutboundRequest } from './outboundHttp';
import { classifyNetworkError, classifyResponse, type Outcome } from './outcome';
import { buildPushBody } from './pushBody';
import { soapAction, soapCreateEnvelope, soapServiceName } from './soapEnvelope';
import { TokenError, type TokenService } from './tokens';
import { checkResolvedAddresses } from './uriGuard';
import { signWebhook } from './webhookSignature';

/** What an adapter needs of a connector, with its secret already read from Key Vault. */
export interface ConnectorTarget {
  id: string;
  backOffice: BackOffice;
  apiType: ApiType;
  authType: AuthType;
  webServiceUri: string;
  login: string | null;
  /** The password (or access key, client credentials, signing secret); null when there is none. */
  secret: string | null;
}

export type { Diagnosis, DiagnosisStage } from './diagnosis';

export interface BackOfficeClient {
  deliver(target: ConnectorTarget, change: AppointmentChange): Promise<Outcome>;
  test(target: ConnectorTarget): Promise<Diagnosis>;
}

class StageError extends Error {
  constructor(
    readonly stage: DiagnosisStage,
    readonly outcome: Omit<Outcome, 'durationMs'>,
  ) {
    super(outcome.message);
  }
}

export function createBackOfficeClient(deps: {
  http: OutboundHttp;
  tokens: TokenService;
  allowLoopback: boolean;
  now?: () => number;
}): BackOfficeClient {
  const now = deps.now ?? Date.now;

  /** The Authorization header for a target, or undefined when it authenticates otherwise. */
  async function authorization(target: ConnectorTarget, forceRefresh: boolean): Promise<string | undefined> {
    switch (target.authType) {
      case 'none':
      case 'signing-secret':
        return undefined;
      case 'basic': {
        if (!target.login || !target.secret)
          throw new StageError('credentials', {
            kind: 'permanent',
            code: 'config.secret-missing',
            message: 'basic authentication needs a login and a password',
          });
        return `Basic ${Buffer.from(`${target.login}:${target.secret}`, 'utf8').toString('base64')}`;
      }
      case 'oauth2-client-credentials': {
        if (!target.login || !target.secret)
          throw new StageError('credentials', {
            kind: 'permanent',
            code: 'config.secret-missing',
            message: 'client credentials need a tenant id and a password',
          });
        let credentials: ReturnType<typeof parseOAuthPassword>;
        try {
          credentials = parseOAuthPassword(target.secret);
        } catch (error) {
          throw new StageError('credentials', {
            kind: 'permanent',
            code: 'config.credentials-unparseable',
            message: (error as Error).message,
          });
        }
        return `Bearer ${await token(() => deps.tokens.clientCredentials(target.login!, credentials.clientId, credentials.clientSecret, forceRefresh))}`;
      }
      case 'managed-identity':
        return `Bearer ${await token(() => deps.tokens.managedIdentity(forceRefresh))}`;
    }
  }

  async function token(get: () => Promise<string>): Promise<string> {
    try {
      return await get();
    } catch (error) {
      if (error instanceof TokenError) throw new StageError('token', error.outcome);
      throw error;
    }
  }

  /** Sends with credentials; a bearer token only ever goes to the connector's own host, and a 401 refreshes it once. */
  async function sendAuthorized(target: ConnectorTarget, build: () => OutboundRequest): Promise<Outcome> {
    const request = build();
    if (new URL(request.url).host !== new URL(target.webServiceUri).host)
      throw new Error('refusing to send credentials to another host');
    const attempt = async (forceRefresh: boolean) => {
      const auth = await authorization(target, forceRefresh);
      try {
        const res = await deps.http({
          ...request,
          headers: { ...request.headers, ...(auth ? { authorization: auth } : {}) },
        });
        return { res, bearer: auth?.startsWith('Bearer ') ?? false };
      } catch (error) {
        if (error instanceof NetworkError) throw new StageError('request', classifyNetworkError(error));
        throw error;
      }
    };
    let { res, bearer } = await attempt(false);
    if (res.status === 401 && bearer) ({ res } = await attempt(true));
    return classifyResponse(res);
  }

  function pushRequest(target: ConnectorTarget, change: AppointmentChange): OutboundRequest {
    const body = buildPushBody(target.id, change);
    if (target.apiType === 'soap') {
      const service = soapServiceName(target.webServiceUri);
      return {
        url: target.webServiceUri,
        method: 'POST',
        headers: {
          'content-type': 'text/xml; charset=utf-8',
          soapaction: soapAction(service, 'Create'),
          'idempotency-key': body.id,
        },
        body: soapCreateEnvelope(service, body),
      };
    }
    const json = JSON.stringify(body);
    const signature =
      target.authType === 'signing-secret' && target.secret
        ? signWebhook(target.secret, body.id, Math.floor(now() / 1000), json)
        : {};
    return {
      url: target.webServiceUri,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'idempotency-key': body.id,
        ...signature,
      },
      body: json,
    };
  }

  const failed = (error: unknown, started: number): Outcome => {
    if (error instanceof StageError) return { ...error.outcome, durationMs: Math.round(performance.now() - started) };
    throw error;
  };

  return {
    async deliver(target, change) {
      const started = performance.now();
      try {
        return await sendAuthorized(target, () => pushRequest(target, change));
      } catch (error) {
        return failed(error, started);
      }
    },

    async test(target) {
      const started = performance.now();
      const done = (stage: DiagnosisStage, outcome: Omit<Outcome, 'durationMs'>, ok: boolean): Diagnosis => ({
        ok,
        stage,
        status: outcome.status ?? null,
        code: outcome.code,
        message:
          outcome.upstreamCode && !outcome.message.includes(outcome.upstreamCode)
            ? `${outcome.upstreamCode}: ${outcome.message}`
            : outcome.message,
        durationMs: Math.round(performance.now() - started),
      });
      try {
        if (target.backOffice === 'webhook') {
          // A webhook is not called by a test (it would be a real delivery): check credentials and the address.
          await authorization(target, false);
          await checkResolvedAddresses(new URL(target.webServiceUri).hostname, {
            allowLoopback: deps.allowLoopback,
          }).catch((error: Error) => {
            throw new StageError('request', {
              kind: 'permanent',
              code: error.name === 'BlockedAddressError' ? 'config.address-blocked' : 'net.dns-failed',
              message: error.message,
            });
          });
          return done(
            'request',
            {
              kind: 'delivered',
              code: 'ok',
              message: 'the webhook host resolves to an allowed address; no request was sent',
            },
            true,
          );
        }
        const url = new URL(target.webServiceUri);
        if (target.apiType === 'rest') url.searchParams.set('$top', '1');
        const outcome = await sendAuthorized(target, () => ({
          url: url.toString(),
          method: 'GET',
          headers: { accept: target.apiType === 'soap' ? 'text/xml' : 'application/json' },
        }));
        const ok = outcome.kind === 'delivered';
        return done(
          'request',
          ok ? { ...outcome, code: 'ok', message: `the back office answered ${outcome.status}` } : outcome,
          ok,
        );
      } catch (error) {
        if (error instanceof StageError) return done(error.stage, error.outcome, false);
        throw error;
      }
    },
  };
}
