// A Business Central server on loopback: API page inserts (201 + Location), duplicate keys, OData JSON and XML
// errors, 401 variants, 429/503 with Retry-After, resets, a SOAP page service with faults, latency and a
// fault rate. Built from reference/business-central.md section 10.2.
import { randomUUID } from 'node:crypto';
import { BC_AUDIENCE, decodeJwt } from './entraFake';
import { HttpFake, jsonReply, type RecordedRequest, type Reply } from './httpFake';
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

export class BusinessCentralFake {
  readonly http: HttpFake;
  /** Apps registered and enabled on "Microsoft Entra applications": tenant -> client ids. */
  readonly entraApps = new Map<string, Set<string>>();
  /** Basic credentials (user -> password or web service access key) for on-premises routes. */
  readonly basicUsers = new Map<string, string>();
  /** Inserted appointments by body id, in arrival order. */
  readonly inserted = new Map<string, unknown>();
  readonly insertOrder: string[] = [];
  duplicateStatus: 400 | 409 = 400;
  unauthorizedAsXml = false;
  /** Reject the next N bearer requests with 401 (a revoked or expired token). */
  rejectBearer = 0;
  /** Faults answered before normal handling, in order. */
  readonly faults: InjectedFault[] = [];
  /** Share of inserts that fail at random with 429/503/500/reset (0..1). */
  faultRate = 0;
  /** Services published as SOAP pages. */
  readonly soapServices = new Set(['Appointment']);
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
    this.http.latencyMs = ms;
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

  #unauthorized(): Reply {
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

  #handle(req: RecordedRequest): Reply {
    // For a fake in another process (the benchmark): what it has seen so far.
    if (req.path === '/_fake/stats')
      return jsonReply(200, { inserted: this.insertOrder.length, requests: this.requests.length });
    const queued = this.faults.shift();
    if (queued) return this.#fault(queued);
    if (!this.#authorized(req)) return this.#unauthorized();
    if (req.method === 'POST' && this.faultRate > 0 && this.random() < this.faultRate) {
      const pick = Math.floor(this.random() * 4);
      return this.#fault(
        pick === 3 ? 'reset' : { status: [429, 503, 500][pick]!, retryAfter: pick < 2 ? '0' : undefined },
      );
    }
    const soap = /\/WS\/[^/]+\/Page\/([^/]+)$/.exec(req.path);
    return soap ? this.#soap(req, soap[1]!) : this.#rest(req);
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
    this.inserted.set(body.id, body);
    this.insertOrder.push(body.id);
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
    this.inserted.set(id, req.body);
    this.insertOrder.push(id);
    return {
      status: 200,
      headers: { 'content-type': 'text/xml; charset=utf-8' },
      body: `<Soap:Envelope xmlns:Soap="http://schemas.xmlsoap.org/soap/envelope/"><Soap:Body><Create_Result xmlns="${ns}"><${service}><Key>12;abc;</Key><Id>${id}</Id></${service}></Create_Result></Soap:Body></Soap:Envelope>`,
    };
  }
}
