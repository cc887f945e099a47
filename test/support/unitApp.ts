// The whole app in process, for the unit layer: `createServices` wired as in Azure but with in-memory adapters
// (tables on the in-memory table, queues as arrays, Key Vault as a map, a back office answering each HTTP
// request from a script, Entra handing out tokens). The real stores, use cases, back-office client ($batch,
// outcomes) and budget run; nothing leaves the process.
import type { OutboundHttp, OutboundRequest, OutboundResponse } from '../../src/backOffice/outboundHttp';
import { NetworkError } from '../../src/backOffice/outboundHttp';
import type { TokenService } from '../../src/backOffice/tokens';
import type { AppointmentChange } from '../../src/model/appointmentChange';
import { localActor } from '../../src/model/audit';
import { type ConnectorInput, connectorInputSchema, type StoredConnector } from '../../src/model/connector';
import type { WorkItemMessage } from '../../src/model/workItem';
import type { Clock } from '../../src/platform/clock';
import { systemClock } from '../../src/platform/clock';
import { loadConfig } from '../../src/platform/config';
import { DependencyError } from '../../src/platform/errors';
import { createLogger, type Logger } from '../../src/platform/logging';
import { registerSecret } from '../../src/platform/redact';
import type { PoisonedMessage, SyncQueues } from '../../src/queues/syncQueues';
import type { SecretRef, SecretStore } from '../../src/secrets/secretStore';
import { createServices, type Services } from '../../src/services';
import type { QueueMessage } from '../../src/sync/handleChange';
import { MemoryTables } from '../fakes/memoryTable';

/** The sync's queues as arrays: what was sent, in order, with its delay. */
export class MemoryQueues implements SyncQueues {
  readonly changes: AppointmentChange[] = [];
  readonly workItems: Array<{ item: WorkItemMessage; delaySeconds: number }> = [];
  readonly recoveryPages: Array<{ page: unknown; delaySeconds: number }> = [];
  readonly poisoned: Record<'changes' | 'retries' | 'recoveries', PoisonedMessage[]> = {
    changes: [],
    retries: [],
    recoveries: [],
  };
  /** Messages sent, all queues together. */
  sent = 0;
  /** When true, every call fails as an unreachable queue does. */
  down = false;

  #check() {
    if (this.down) throw new DependencyError('Queue storage is unavailable.', 'storage-unavailable');
  }
  async sendChange(change: AppointmentChange) {
    this.#check();
    this.sent++;
    this.changes.push(structuredClone(change));
  }
  async sendWorkItem(item: WorkItemMessage, delaySeconds: number) {
    this.#check();
    this.sent++;
    this.workItems.push({ item: structuredClone(item), delaySeconds });
  }
  async sendRecoveryPage(page: unknown, delaySeconds = 0) {
    this.#check();
    this.sent++;
    this.recoveryPages.push({ page: structuredClone(page), delaySeconds });
  }
  async receivePoisoned(source: 'changes' | 'retries' | 'recoveries', max: number) {
    this.#check();
    return this.poisoned[source].splice(0, max);
  }
  /** The memory queues keep no insertion times: nothing to report. */
  async oldestAges() {
    this.#check();
    return [];
  }
  async ping() {
    this.#check();
  }

  /** Puts a message on a poison queue as the host does after maxDequeueCount failures (`text` null: not base64). */
  poison(source: 'changes' | 'retries' | 'recoveries', text: string | null, raw = text ?? '') {
    const removed = { count: 0 };
    this.poisoned[source].push({
      text,
      raw,
      remove: async () => {
        removed.count++;
      },
    });
    return removed;
  }
}

/** Key Vault as a map of names to versions; a soft-deleted name refuses writes until recovered. */
export class MemorySecrets implements SecretStore {
  readonly versions = new Map<string, Map<string, string>>();
  readonly deleted = new Set<string>();
  readonly disabled = new Set<string>();
  /** When true, every call fails as a Key Vault outage does. */
  down = false;
  reads = 0;
  #next = 0;
  readonly #registered = new Map<string, () => void>();

  #check(operation: string) {
    if (this.down) throw new DependencyError(`Key Vault ${operation} failed (status 503).`, 'key-vault-unavailable');
  }
  async set(name: string, value: string) {
    this.#check('write');
    this.deleted.delete(name);
    const version = `v${++this.#next}`;
    if (!this.versions.has(name)) this.versions.set(name, new Map());
    this.versions.get(name)!.set(version, value);
    return { name, version };
  }
  async get(ref: SecretRef) {
    this.#check('read');
    this.reads++;
    if (this.deleted.has(ref.name) || this.disabled.has(`${ref.name}/${ref.version}`)) return undefined;
    const value = this.versions.get(ref.name)?.get(ref.version);
    // As the Key Vault store does with the versions it caches: a value read is redacted from then on.
    if (value !== undefined && !this.#registered.has(value)) this.#registered.set(value, registerSecret(value));
    return value;
  }
  async setExpiry() {
    this.#check('update');
  }
  async disable(ref: SecretRef) {
    this.#check('update');
    this.disabled.add(`${ref.name}/${ref.version}`);
  }
  async delete(name: string) {
    this.#check('delete');
    if (this.versions.has(name)) this.deleted.add(name);
  }
  async recover(name: string) {
    this.#check('recover');
    this.deleted.delete(name);
  }
  async ping() {
    this.#check('list');
  }
}

export type Reply = Partial<OutboundResponse> & { status: number };
export type Script = (request: OutboundRequest) => Reply | NetworkError | undefined;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * A back office answering each HTTP request: by default as a Business Central API page does (201 for a new id,
 * 400 Internal_EntityWithSameKeyExists for one it has, a $batch answered per operation); a test's script may
 * answer first. Every request is recorded.
 */
export class ScriptedBackOffice {
  readonly requests: OutboundRequest[] = [];
  readonly inserted = new Set<string>();
  /** Answers tried before the default, first match wins; a scripted answer is used once unless `keep`. */
  readonly scripts: Array<{ script: Script; keep?: boolean }> = [];
  /** Requests answered (or failed) so far, and the most in flight at once. */
  inFlight = 0;
  peakInFlight = 0;
  latencyMs = 0;

  answer(script: Script, options: { keep?: boolean } = {}) {
    this.scripts.push({ script, keep: options.keep });
  }

  #default(request: OutboundRequest): Reply {
    if (request.method === 'GET') return json(200, { value: [] });
    if (request.url.endsWith('/$batch')) {
      const { requests } = JSON.parse(request.body ?? '{}') as {
        requests: Array<{ id: string; body: { id: string } }>;
      };
      return json(200, {
        responses: requests.map((op) => {
          const answer = this.#insert(op.body.id);
          return { id: op.id, status: answer.status, headers: {}, body: JSON.parse(answer.body ?? '{}') };
        }),
      });
    }
    const id =
      /<Id>([^<]+)<\/Id>/.exec(request.body ?? '')?.[1] ?? (JSON.parse(request.body ?? '{}') as { id: string }).id;
    return this.#insert(id);
  }

  #insert(id: string): Reply {
    if (this.inserted.has(id))
      return json(400, { error: { code: 'Internal_EntityWithSameKeyExists', message: `Id='${id}' exists` } });
    this.inserted.add(id);
    return json(201, { id });
  }

  readonly http: OutboundHttp = Object.assign(
    async (request: OutboundRequest): Promise<OutboundResponse> => {
      this.requests.push(request);
      this.inFlight++;
      this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
      try {
        if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
        let reply: Reply | NetworkError | undefined;
        for (const [i, entry] of this.scripts.entries()) {
          reply = entry.script(request);
          if (reply !== undefined) {
            if (!entry.keep) this.scripts.splice(i, 1);
            break;
          }
        }
        reply ??= this.#default(request);
        if (reply instanceof NetworkError) throw reply;
        return { headers: {}, body: '', durationMs: 1, ...reply };
      } finally {
        this.inFlight--;
      }
    },
    {
      probe: async () => ({ durationMs: 1 }),
      connection: () => ({ send: (request: OutboundRequest) => this.http(request), close: () => undefined }),
    },
  );

  /** The body ids the back office was sent (single requests and batch operations), in order. */
  sentIds(): string[] {
    return this.requests.flatMap((r) => {
      if (r.method !== 'POST') return [];
      const body = JSON.parse(r.body ?? '{}') as { id?: string; requests?: Array<{ body: { id: string } }> };
      return body.requests ? body.requests.map((op) => op.body.id) : body.id ? [body.id] : [];
    });
  }
}

/** Entra as a counter of tokens; `fail` makes the next calls throw what it returns. */
export class FakeTokens implements TokenService {
  issued = 0;
  fail: (() => Error) | undefined;
  async clientCredentials() {
    if (this.fail) throw this.fail();
    this.issued++;
    return `token-${this.issued}`;
  }
  async managedIdentity() {
    if (this.fail) throw this.fail();
    this.issued++;
    return `mi-token-${this.issued}`;
  }
}

export interface UnitApp {
  services: Services;
  tables: MemoryTables;
  queues: MemoryQueues;
  secrets: MemorySecrets;
  backOffice: ScriptedBackOffice;
  tokens: FakeTokens;
  lines: string[];
  log: Logger;
  /** Creates a connector through the connector use case; `overrides` are its input fields. */
  connector(overrides?: Partial<ConnectorInput> & Record<string, unknown>): Promise<StoredConnector>;
  /** A message as the queue trigger hands it over. */
  message(value: unknown): QueueMessage;
  /** Runs what waits on the queues (changes, then retries and recovery pages) until they are empty. */
  drain(options?: { maxRounds?: number }): Promise<void>;
}

export function createUnitApp(env: Record<string, string> = {}, clock: Clock = systemClock): UnitApp {
  const config = loadConfig({
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    KEY_VAULT_URI: 'http://127.0.0.1:1',
    KEY_VAULT_ALLOW_INSECURE: 'true',
    BACKOFFICE_ALLOW_LOOPBACK: 'true',
    AUTH_MODE: 'off',
    SYNC_RETRY_DELAYS_SECONDS: '0',
    SYNC_CONNECTOR_CACHE_SECONDS: '0',
    SYNC_BATCH_LINGER_MS: '5',
    ...env,
  });
  const tables = new MemoryTables();
  const queues = new MemoryQueues();
  const secrets = new MemorySecrets();
  const backOffice = new ScriptedBackOffice();
  const tokens = new FakeTokens();
  const services = createServices(config, {
    table: tables.table,
    queues,
    secrets,
    http: backOffice.http,
    tokens,
    clock,
  });
  const lines: string[] = [];
  const log = createLogger((level, line) => lines.push(`${level} ${line}`));
  const call = { actor: localActor, correlationId: 'unit' };
  const message = (value: unknown): QueueMessage => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // text that is not JSON reaches the handler as the string itself
    }
    return { value: parsed, text, traceId: null };
  };
  return {
    services,
    tables,
    queues,
    secrets,
    backOffice,
    tokens,
    lines,
    log,
    message,
    async connector(overrides = {}) {
      const input = connectorInputSchema.parse({
        name: 'unit',
        sourceApp: 'BCCRONUSUS',
        backOffice: 'bc-onprem',
        webServiceUri: 'https://bc.example.com/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments',
        login: 'SVC',
        password: 'unit-access-key-1',
        ...overrides,
      });
      const created = await services.connectors.create(input, call, log);
      const stored = await services.sync.deps.connectorById(created.value.id);
      if (!stored) throw new Error('the connector was not stored');
      return stored;
    },
    async drain({ maxRounds = 50 } = {}) {
      for (let round = 0; round < maxRounds; round++) {
        const changes = queues.changes.splice(0);
        const items = queues.workItems.splice(0);
        const pages = queues.recoveryPages.splice(0);
        if (changes.length + items.length + pages.length === 0) return;
        await Promise.all([
          ...changes.map((c) => services.sync.handleChange(message(c), log)),
          ...items.map((w) => services.sync.handleWorkItem(message(w.item), log)),
          ...pages.map((p) => services.sync.handleRecoveryPage(message(p.page), log)),
        ]);
      }
      throw new Error(`the queues were not empty after ${maxRounds} rounds`);
    },
  };
}
