// The only code that talks to a back office: deliver one change, deliver several as one OData $batch, or test
// a connection. It receives a resolved target (address, authentication, secret) and bodies built by its caller;
// it knows nothing of queues, stores or the sync's state.
import { helpFor } from '../model/codes';
import type { Diagnosis, DiagnosisStage } from '../model/diagnosis';
import { isDelivered, messageWithCode, type Outcome } from '../model/outcome';
import type { PushBody } from '../model/pushBody';
import { instruments, statusClass } from '../platform/telemetry';
import { authorizationFor } from './authorization';
import { schemeMismatch } from './authSchemes';
import { authenticateMessage, NtlmError, negotiateMessage, ntlmToken, parseChallenge, parseWindowsLogin } from './ntlm';
import { batchAddress, batchRequest, readBatchAnswer } from './odataBatch';
import { NetworkError, type OutboundHttp, type OutboundRequest, type OutboundResponse } from './outboundHttp';
import { classifyNetworkError, classifyResponse } from './outcome';
import { pushRequest } from './pushRequest';
import { StageError } from './stageError';
import type { BackOfficeTarget } from './target';
import type { TokenService } from './tokens';

export type BatchResult =
  | { refused: false; outcomes: Outcome[] }
  /**
   * Send the changes one by one: the server does not serve $batch at that address (404/400/405/501/413), or its
   * answer did not confirm each change (a 2xx other than 200, a malformed batch response).
   */
  | { refused: true; status: number; reason: string };

export interface BackOfficeClient {
  deliver(target: BackOfficeTarget, body: PushBody): Promise<Outcome>;
  /** Whether the target is a Business Central REST API page that can take a $batch. */
  canBatch(target: Pick<BackOfficeTarget, 'apiType' | 'backOffice' | 'webServiceUri'>): boolean;
  deliverBatch(target: BackOfficeTarget, bodies: PushBody[]): Promise<BatchResult>;
  test(target: BackOfficeTarget): Promise<Diagnosis>;
}

/** What a connection test reports: an outcome's code, or "ok". */
type Said = { code: string; message: string; status?: number; upstreamCode?: string };

const BATCH_REFUSED = new Set([400, 404, 405, 413, 501]);

export function createBackOfficeClient(deps: {
  http: OutboundHttp;
  tokens: TokenService;
  now?: () => number;
}): BackOfficeClient {
  const now = deps.now ?? Date.now;

  /** Sends with credentials; a bearer token only ever goes to the connector's own host, and a 401 refreshes it once. */
  /** A network failure during the request, as the request stage's outcome; anything else as it is. */
  const requestStage = (error: unknown) =>
    error instanceof NetworkError ? new StageError('request', classifyNetworkError(error)) : error;

  /** A request as the metrics see it: its duration by back office and status class, and each 429. */
  async function sendMeasured(
    target: BackOfficeTarget,
    request: OutboundRequest,
    operation: 'deliver' | 'batch' | 'test',
  ): Promise<OutboundResponse> {
    const started = performance.now();
    const observe = (status: number | undefined) => {
      const { requestDuration, throttled } = instruments();
      requestDuration.record(Math.round(performance.now() - started), {
        back_office: target.backOffice,
        operation,
        status_class: statusClass(status),
      });
      if (status === 429) throttled.add(1, { back_office: target.backOffice, 'connector.id': target.id });
    };
    try {
      const res = await sendAuthorized(target, request);
      observe(res.status);
      return res;
    } catch (error) {
      // Only a request that went out counts; one that failed at its credentials or token never reached it.
      if (error instanceof StageError && error.stage === 'request') observe(undefined);
      throw error;
    }
  }

  async function sendAuthorized(target: BackOfficeTarget, request: OutboundRequest): Promise<OutboundResponse> {
    if (new URL(request.url).host !== new URL(target.webServiceUri).host)
      throw new Error('refusing to send credentials to another host');
    if (target.authType === 'ntlm') return sendWithNtlm(target, request);
    const attempt = async (forceRefresh: boolean) => {
      const auth = await authorizationFor(target, deps.tokens, forceRefresh);
      try {
        const res = await deps.http({
          ...request,
          headers: { ...request.headers, ...(auth ? { authorization: auth } : {}) },
        });
        return { res, bearer: auth?.startsWith('Bearer ') ?? false };
      } catch (error) {
        throw requestStage(error);
      }
    };
    const first = await attempt(false);
    if (first.res.status === 401 && first.bearer) return (await attempt(true)).res;
    return first.res;
  }

  /**
   * Windows authentication: NEGOTIATE, the server's CHALLENGE, then the request itself with the AUTHENTICATE
   * message, all on one connection of their own (NTLM authenticates the connection, not the request).
   */
  async function sendWithNtlm(target: BackOfficeTarget, request: OutboundRequest): Promise<OutboundResponse> {
    if (!target.login || !target.secret)
      throw new StageError('credentials', {
        kind: 'permanent',
        code: 'config.secret-missing',
        message: 'Windows authentication needs a login and a password',
      });
    const credentials = { ...parseWindowsLogin(target.login), password: target.secret };
    const handshakeFailed = (message: string) =>
      new StageError('request', { kind: 'permanent', code: 'auth.ntlm-handshake-failed', message });
    const connection = deps.http.connection();
    try {
      const challenged = await connection.send({
        url: request.url,
        method: request.method,
        headers: { ...request.headers, authorization: negotiateMessage() },
        ...(request.method === 'POST' ? { body: '' } : {}),
      });
      const token = challenged.status === 401 ? ntlmToken(challenged.headers['www-authenticate']) : undefined;
      // No NTLM challenge: the answer as it is (a 401 then says which schemes the server does offer).
      if (!token) return challenged;
      let authorization: string;
      try {
        authorization = authenticateMessage(parseChallenge(token), credentials);
      } catch (error) {
        if (error instanceof NtlmError) throw handshakeFailed(error.message);
        throw error;
      }
      const answered = await connection.send({ ...request, headers: { ...request.headers, authorization } });
      if (!answered.reusedConnection)
        throw handshakeFailed(
          'the server closed the connection between its NTLM challenge and the answer (a proxy or load balancer in between that does not keep connections?)',
        );
      return answered;
    } catch (error) {
      throw requestStage(error);
    } finally {
      connection.close();
    }
  }

  /** The outcome of an answer; a 401 that offers other schemes than the connector's says so. */
  const classify = (target: BackOfficeTarget, res: OutboundResponse): Outcome => {
    const mismatch = res.status === 401 ? schemeMismatch(target.authType, res.headers['www-authenticate']) : undefined;
    return mismatch ? { ...mismatch, status: 401, durationMs: res.durationMs } : classifyResponse(res);
  };

  const timed = <T>(run: (elapsed: () => number) => Promise<T>) => {
    const started = performance.now();
    return run(() => Math.round(performance.now() - started));
  };

  const fromStage = (error: unknown, elapsed: () => number): Outcome => {
    if (error instanceof StageError) return { ...error.outcome, durationMs: elapsed() };
    throw error;
  };

  return {
    deliver: (target, body) =>
      timed(async (elapsed) => {
        try {
          return classify(target, await sendMeasured(target, pushRequest(target, body, now()), 'deliver'));
        } catch (error) {
          return fromStage(error, elapsed);
        }
      }),

    canBatch: (target) =>
      target.apiType === 'rest' &&
      (target.backOffice === 'bc-online' || target.backOffice === 'bc-onprem') &&
      batchAddress(target.webServiceUri) !== undefined,

    deliverBatch: (target, bodies) =>
      timed(async (elapsed) => {
        const address = batchAddress(target.webServiceUri);
        if (!address) throw new Error(`connector ${target.id} cannot take a $batch`);
        let res: OutboundResponse;
        try {
          res = await sendMeasured(target, batchRequest(address, bodies), 'batch');
        } catch (error) {
          const outcome = fromStage(error, elapsed);
          return { refused: false, outcomes: bodies.map(() => outcome) };
        }
        if (BATCH_REFUSED.has(res.status))
          return {
            refused: true,
            status: res.status,
            reason: `the server does not take a $batch there (${res.status})`,
          };
        if (res.status >= 200 && res.status < 300) {
          const answer = readBatchAnswer(res, bodies.length);
          if (answer.kind === 'outcomes') return { refused: false, outcomes: answer.outcomes };
          return { refused: true, status: res.status, reason: answer.reason };
        }
        const outcome = classify(target, res);
        return { refused: false, outcomes: bodies.map(() => outcome) };
      }),

    test: (target) =>
      timed(async (elapsed) => {
        const done = (stage: DiagnosisStage, outcome: Said, ok: boolean): Diagnosis => ({
          ok,
          stage,
          status: outcome.status ?? null,
          code: outcome.code,
          message: messageWithCode(outcome),
          help: helpFor(outcome.code),
          durationMs: elapsed(),
        });
        try {
          if (target.backOffice === 'webhook') {
            // A request to a webhook would be a delivery: prove the credentials, then only connect (TCP + TLS).
            await authorizationFor(target, deps.tokens, false);
            try {
              await deps.http.probe(target.webServiceUri);
            } catch (error) {
              if (error instanceof NetworkError) return done('request', classifyNetworkError(error), false);
              throw error;
            }
            const secure = new URL(target.webServiceUri).protocol === 'https:';
            return done(
              'request',
              {
                code: 'connected',
                message: `connected (${secure ? 'TCP and TLS' : 'TCP only: plain http, no TLS'}); no request was sent, so whether the endpoint accepts a delivery (its signature check, its answer) was not tested`,
              },
              true,
            );
          }
          const url = new URL(target.webServiceUri);
          if (target.apiType === 'rest') url.searchParams.set('$top', '1');
          const res = await sendMeasured(
            target,
            {
              url: url.toString(),
              method: 'GET',
              headers: { accept: target.apiType === 'soap' ? 'text/xml' : 'application/json' },
            },
            'test',
          );
          const outcome = classify(target, res);
          return isDelivered(outcome)
            ? done(
                'request',
                { code: 'ok', status: outcome.status, message: `the back office answered ${outcome.status}` },
                true,
              )
            : done('request', outcome, false);
        } catch (error) {
          if (error instanceof StageError) return done(error.stage, error.outcome, false);
          throw error;
        }
      }),
  };
}
