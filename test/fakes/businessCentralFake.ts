// A Business Central server on loopback: API page inserts (201 + Location), duplicate keys, OData JSON and XML
// errors, 401 variants, 429/503 with Retry-After, resets, a SOAP page service with faults, latency and a
// fault rate. Built from reference/business-central.md section 10.2.
import { randomUUID } from 'node:crypto';
import { BC_AUDIENCE, decodeJwt } from './entraFake';
import { HttpFake, jsonReply, type RecordedRequest, type Reply } from './httpFake';
import { NtlmServer, ntlmMessageType, ntlmUserOf } from './ntlmServer';
import { seededRandom } from './seededRandom';

const correlation = () => `  CorrelationId:  ${randomUUID()}.`;
export const odataError = (
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Reply =>
  jsonReply(
    status,
    { error: { code, message: `${message}${correlation()}` } },
    { 'request-id': randomUUID(), ...headers },
  );

export type InjectedFault = { status: number; retryAfter?: string; contentType?: string; body?: string } | 'reset';

/** Business Central's operational limits per user or service principal (compressed for tests). */
export interface PrincipalLimits {
  /** Requests processed at once. */
  maxConcurrent: number;
  /** Requests waiting for a slot; beyond that 429. */
  maxQueued: number;
  requestsPerWindow: number;
  windowMs: number;
}

export interface PrincipalStats {
  requests: number;
  inFlight: number;
  peakInFlight: number;
  /** 429 answers given for the limits. */
  throttled: number;
  /** Arrival times within the window. */
  arrivals: number[];
  waiters: Array<() => void>;
}

export class BusinessCentralFake {
  readonly http: HttpFake;
  /** Apps registered and enabled on "Microsoft Entra applications": tenant -> client ids. */
  readonly entraApps = new Map<string, Set<string>>();
  /** Basic credentials (user -> password or web service access key) for on-premises routes. */
  readonly basicUsers = new Map<string, string>();
  /**
   * Windows authentication (a server instance with the Windows credential type): NTLM users; when it has any,
   * Basic is refused and a 401 offers `Negotiate, NTLM`.
   */
  readonly windows = new NtlmServer();
  /** What a 401 offers in WWW-Authenticate; by default nothing (or `Negotiate, NTLM` with Windows users). */
  authenticate: string | undefined;
  /** Inserted appointments by body id, in arrival order. */
  readonly inserted = new Map<string, unknown>();
  readonly insertOrder: string[] = [];
  /** When each insert was accepted (ms since the epoch), in the order of `insertOrder`. */
  readonly insertedAt: number[] = [];
  duplicateStatus: 400 | 409 = 400;
  unauthorizedAsXml = false;
  /** Reject the next N bearer requests with 401 (a revoked or expired token). */
  rejectBearer = 0;
  /** Faults answered before normal handling, in order. */
  readonly faults: InjectedFault[] = [];
  /** Share of inserts (requests, and operations inside a batch) that fail at random with 429/503/500/reset (0..1). */
  faultRate = 0;
  /** Services published as SOAP pages. */
  readonly soapServices = new Set(['Appointment']);
  /** Whether the server answers `$batch` (an older or locked-down server answers 404). */
  batchSupported = true;
  /**
   * Answers given to the next $batch requests instead of processing them (a proxy's 204, an OData
   * respond-async 202, a malformed batch response): the operations are not run.
   */
  readonly batchAnswers: Reply[] = [];
  /** Faults answered to the operations inside a batch, in order, before their normal handling. */
  readonly innerFaults: InjectedFault[] = [];
  /** Faults for the batch operation of one change (by its body id), answered once. */
  readonly faultsFor = new Map<string, InjectedFault>();
  /** The limits enforced per principal; none when undefined. */
  limits: PrincipalLimits | undefined;
  readonly principals = new Map<string, PrincipalStats>();
  batches = 0;
  /** How long processing a request takes (inside a concurrency slot). */
  processingMs = 0;
  private random = Math.random;

  constructor() {
    this.http = new HttpFake((req) => this.#handle(req));
  }

  start = () => this.http.start();
  stop = () => this.http.stop();
  get url() {
    return this.http.url;
  }
  get requests(): RecordedRequest[] {
    return this.http.requests;
  }
  set latencyMs(ms: number) {
    this.processingMs = ms;
  }

  /** The principal a request counts against: tenant + app for a token, the user for Basic. */
  principalOf(req: RecordedRequest): string {
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer (.+)$/.exec(auth);
    if (bearer) {
      const claims = decodeJwt(bearer[1]!);
      return `app:${String(claims?.tid)}:${String(claims?.appid)}`;
    }
    const basic = /^Basic (.+)$/.exec(auth);
    if (basic) return `user:${Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0]}`;
    const windows = ntlmMessageType(auth) === 3 ? ntlmUserOf(auth) : this.windows.authenticatedOn(req.connection);
    if (windows) return `user:${windows.domain}\\${windows.user}`;
    return 'anonymous';
  }

  /** Totals over every principal, for the tests' assertions. */
  get throttledTotal(): number {
    return [...this.principals.values()].reduce((sum, p) => sum + p.throttled, 0);
  }

  registerApp(tenant: string, clientId: string): this {
    if (!this.entraApps.has(tenant)) this.entraApps.set(tenant, new Set());
    this.entraApps.get(tenant)!.add(clientId.toLowerCase());
    return this;
  }

  seed(seed: number): this {
    this.random = seededRandom(seed);
    return this;
  }

  get #windowsMode(): boolean {
    return this.windows.users.size > 0;
  }

  /** Whether the server takes NTLM: it has Windows users and its WWW-Authenticate (if set) names NTLM. */
  get #offersNtlm(): boolean {
    return this.#windowsMode && (this.authenticate === undefined || /\bNTLM\b/i.test(this.authenticate));
  }

  #unauthorized(): Reply {
    const offered = this.authenticate ?? (this.#windowsMode ? 'Negotiate, NTLM' : undefined);
    const reply = this.#refusal();
    if (!offered || reply === 'reset') return reply;
    return { ...reply, headers: { ...reply.headers, 'www-authenticate': offered } };
  }

  #refusal(): Reply {
    return this.unauthorizedAsXml
      ? {
          status: 401,
          headers: { 'content-type': 'application/xml' },
          body: '<error xmlns="http://docs.oasis-open.org/odata/ns/metadata"><code>Unauthorized</code><message>The credentials provided are incorrect</message></error>',
        }
      : odataError(401, 'Authentication_InvalidCredentials', 'The server has rejected the client credentials.');
  }

  #authorized(req: RecordedRequest): boolean {
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer (.+)$/.exec(auth);
    if (bearer) {
      if (this.rejectBearer > 0) {
        this.rejectBearer--;
        return false;
      }
      const claims = decodeJwt(bearer[1]!);
      const urlTenant = /^\/v2\.0\/([^/]+)\//.exec(req.path)?.[1];
      if (!claims || claims.aud !== BC_AUDIENCE) return false;
      if (urlTenant && /^[\da-f-]{36}$/i.test(urlTenant) && claims.tid !== urlTenant) return false;
      return this.entraApps.get(String(claims.tid))?.has(String(claims.appid).toLowerCase()) ?? false;
    }
    const basic = /^Basic (.+)$/.exec(auth);
    if (basic) {
      if (this.#windowsMode) return false;
      const [user, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      return this.basicUsers.get(user ?? '') === rest.join(':');
    }
    return false;
  }

  #fault(fault: InjectedFault): Reply {
    if (fault === 'reset') return 'reset';
    const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
    if (fault.body !== undefined)
      return {
        status: fault.status,
        headers: { 'content-type': fault.contentType ?? 'text/plain', ...headers },
        body: fault.body,
      };
    const code =
      fault.status === 429
        ? 'Application_TooManyRequests'
        : fault.status === 503
          ? 'ServiceUnavailable'
          : 'Internal_ServerError';
    return odataError(fault.status, code, `Injected ${fault.status}.`, headers);
  }

  async #handle(req: RecordedRequest): Promise<Reply> {
    // For a fake in another process (the benchmark): what it has seen so far.
    if (req.path === '/_fake/inserted') {
      const from = Number(req.query.get('from') ?? 0);
      return jsonReply(200, { ids: this.insertOrder.slice(from), at: this.insertedAt.slice(from) });
    }
    if (req.path === '/_fake/bodies')
      return jsonReply(
        200,
        this.insertOrder.slice(Number(req.query.get('from') ?? 0)).map((id) => this.inserted.get(id)),
      );
    if (req.path === '/_fake/stats')
      return jsonReply(200, {
        inserted: this.insertOrder.length,
        requests: this.requests.length,
        batches: this.batches,
        principals: Object.fromEntries(
          [...this.principals].map(([k, v]) => [
            k,
            { requests: v.requests, peakInFlight: v.peakInFlight, throttled: v.throttled },
          ]),
        ),
      });
    // The first leg of an NTLM handshake is answered by the web server, before the service counts anything.
    if (ntlmMessageType(req.headers.authorization) === 1) return this.#process(req);
    const principal = this.principalOf(req);
    const stats = this.#stats(principal);
    stats.requests++;
    const limited = this.#admit(stats);
    if (limited) return limited;
    if (stats.inFlight >= (this.limits?.maxConcurrent ?? Number.POSITIVE_INFINITY))
      await new Promise<void>((resolve) => stats.waiters.push(resolve));
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    try {
      if (this.processingMs) await new Promise((r) => setTimeout(r, this.processingMs));
      return this.#process(req);
    } finally {
      stats.inFlight--;
      stats.waiters.shift()?.();
    }
  }

  #stats(principal: string): PrincipalStats {
    let stats = this.principals.get(principal);
    if (!stats) {
      stats = { requests: 0, inFlight: 0, peakInFlight: 0, throttled: 0, arrivals: [], waiters: [] };
      this.principals.set(principal, stats);
    }
    return stats;
  }

  /** A 429 when the principal's window is spent or its queue is full, as Business Central answers. */
  #admit(stats: PrincipalStats): Reply | undefined {
    const limits = this.limits;
    if (!limits) return undefined;
    const now = Date.now();
    stats.arrivals = stats.arrivals.filter((t) => t > now - limits.windowMs);
    const queued = stats.waiters.length;
    if (
      stats.arrivals.length >= limits.requestsPerWindow ||
      (stats.inFlight >= limits.maxConcurrent && queued >= limits.maxQueued)
    ) {
      stats.throttled++;
      return odataError(
        429,
        'Application_TooManyRequests',
        `Too many requests reached. Actual (${stats.arrivals.length + 1}). Maximum (${limits.requestsPerWindow}).`,
      );
    }
    stats.arrivals.push(now);
    return undefined;
  }

  #process(req: RecordedRequest): Reply {
    const queued = this.faults.shift();
    if (queued) return this.#fault(queued);
    if (/^NTLM\s/i.test(req.headers.authorization ?? '')) {
      if (!this.#offersNtlm) return this.#unauthorized();
      const verdict = this.windows.handle(req.connection, req.headers.authorization!);
      if (verdict.kind === 'challenge')
        return { status: 401, headers: { 'www-authenticate': verdict.header }, body: '' };
      if (verdict.kind === 'refused') return this.#unauthorized();
    } else if (!this.windows.authenticatedOn(req.connection) && !this.#authorized(req)) return this.#unauthorized();
    const random = req.method === 'POST' ? this.#randomFault() : undefined;
    if (random) return this.#fault(random);
    const soap = /\/WS\/[^/]+\/Page\/([^/]+)$/.exec(req.path);
    if (soap) return this.#soap(req, soap[1]!);
    if (req.path.endsWith('/$batch') && req.method === 'POST') return this.#batch(req);
    return this.#rest(req);
  }

  /** With `faultRate`: a 429, 503, 500 or reset at random, for a request or an operation inside a batch. */
  #randomFault(): InjectedFault | undefined {
    if (this.faultRate <= 0 || this.random() >= this.faultRate) return undefined;
    const pick = Math.floor(this.random() * 4);
    return pick === 3 ? 'reset' : { status: [429, 503, 500][pick]!, retryAfter: pick < 2 ? '0' : undefined };
  }

  #accept(id: string, body: unknown): void {
    this.inserted.set(id, body);
    this.insertOrder.push(id);
    this.insertedAt.push(Date.now());
  }

  /** OData JSON $batch: each operation handled like a request of its own, each answer in the response. */
  #batch(req: RecordedRequest): Reply {
    const scripted = this.batchAnswers.shift();
    if (scripted) return scripted;
    if (!this.batchSupported)
      return odataError(
        404,
        'BadRequest_NotFound',
        `No HTTP resource was found that matches the request URI '${req.path}'.`,
      );
    let operations: Array<{
      id: string;
      method: string;
      url: string;
      headers?: Record<string, string>;
      body?: unknown;
    }>;
    try {
      operations = (JSON.parse(req.body) as { requests: typeof operations }).requests;
    } catch {
      return odataError(400, 'BadRequest', 'Invalid batch body.');
    }
    if (!Array.isArray(operations)) return odataError(400, 'BadRequest', 'Invalid batch body.');
    if (operations.length > 100)
      return odataError(400, 'BadRequest', 'The batch exceeds the maximum of 100 operations.');
    this.batches++;
    const root = req.path.slice(0, -'/$batch'.length);
    const responses = operations.map((op) => {
      const inner: RecordedRequest = {
        connection: req.connection,
        method: op.method,
        path: `${root}/${op.url.replace(/\?.*$/, '')}`,
        query: new URLSearchParams(),
        headers: {
          ...req.headers,
          ...Object.fromEntries(Object.entries(op.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        },
        body: JSON.stringify(op.body ?? {}),
      };
      const id = (op.body as { id?: string } | undefined)?.id ?? '';
      const fault = this.faultsFor.get(id) ?? this.innerFaults.shift() ?? this.#randomFault();
      this.faultsFor.delete(id);
      const reply = fault ? this.#fault(fault) : this.#rest(inner);
      if (reply === 'reset')
        return {
          id: op.id,
          status: 500,
          headers: {},
          body: { error: { code: 'Internal_ServerError', message: 'reset' } },
        };
      let body: unknown;
      try {
        body = reply.body ? JSON.parse(reply.body) : undefined;
      } catch {
        body = reply.body;
      }
      return { id: op.id, status: reply.status, headers: reply.headers ?? {}, body };
    });
    return jsonReply(200, { responses }, { 'odata-version': '4.0' });
  }

  #rest(req: RecordedRequest): Reply {
    if (!/\/appointments$/.test(req.path))
      return odataError(
        404,
        'BadRequest_NotFound',
        `No HTTP resource was found that matches the request URI '${req.path}'.`,
      );
    if (req.method === 'GET') return jsonReply(200, { value: [] }, { 'odata-version': '4.0' });
    if (req.method !== 'POST')
      return odataError(405, 'BadRequest_MethodNotAllowed', `'${req.method}' requests are not allowed.`);
    let body: { id?: string };
    try {
      body = JSON.parse(req.body) as { id?: string };
    } catch {
      return odataError(400, 'BadRequest', 'Invalid request body.');
    }
    if (!body.id) return odataError(400, 'BadRequest_RequiredParamNotProvided', 'id must not be blank.');
    if (this.inserted.has(body.id)) {
      return odataError(
        this.duplicateStatus,
        'Internal_EntityWithSameKeyExists',
        `The record in table Dime DS Appointment already exists. Identification fields and values: Id='${body.id}'`,
      );
    }
    this.#accept(body.id, body);
    const etag = `W/"${Buffer.from(`44;${this.insertOrder.length};`).toString('base64')}"`;
    return jsonReply(
      201,
      { '@odata.etag': etag, ...body },
      { location: `${this.url}${req.path}(${body.id})`, 'odata-version': '4.0' },
    );
  }

  #soap(req: RecordedRequest, service: string): Reply {
    const fault = (code: string, text: string): Reply => ({
      status: 500,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="urn:microsoft-dynamics-schemas/error">a:${code}</faultcode><faultstring xml:lang="en-US">${text}</faultstring></s:Fault></s:Body></s:Envelope>`,
    });
    if (!this.soapServices.has(service))
      return fault(
        'Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException',
        `Service "${service}" was not found!`,
      );
    const ns = `urn:microsoft-dynamics-schemas/page/${service.toLowerCase()}`;
    if (req.method === 'GET') {
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: `<definitions targetNamespace="${ns}" xmlns="http://schemas.xmlsoap.org/wsdl/"/>`,
      };
    }
    if (req.headers.soapaction !== `"${ns}:Create"`)
      return fault(
        'Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException',
        `Unknown SOAP action ${req.headers.soapaction ?? ''}`,
      );
    const id = /<Id>([^<]+)<\/Id>/.exec(req.body)?.[1];
    if (!id) return fault('Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideException', 'Id must have a value.');
    if (this.inserted.has(id))
      return fault(
        'Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideRecordExistsException',
        `The Dime DS Appointment already exists. Identification fields and values: Id='${id}'`,
      );
    this.#accept(id, req.body);
    return {
      status: 200,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: `<Soap:Envelope xmlns:Soap="http://schemas.xmlsoap.org/soap/envelope/"><Soap:Body><Create_Result xmlns="${ns}"><${service}><Key>12;abc;</Key><Id>${id}</Id></${service}></Create_Result></Soap:Body></Soap:Envelope>`,
    };
  }
}
