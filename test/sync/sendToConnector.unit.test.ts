// The sender on its own: a group of changes for one connector in, one result per change out, with the claims
// and the permits given back whatever happens. Fakes for the ordering, the budget, the back office and the
// secrets; no storage.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BackOfficeClient, BatchResult } from '../../src/backOffice/backOfficeClient';
import type { StoredConnector } from '../../src/model/connector';
import type { Outcome } from '../../src/model/outcome';
import { deliveryId } from '../../src/model/pushBody';
import { silentLogger } from '../../src/platform/logging';
import { rowBase } from '../../src/sync/deliveryLog';
import type { PendingDelivery } from '../../src/sync/pending';
import type { PrincipalBudgets, Take } from '../../src/sync/principalBudget';
import { createSender, newestPerAppointment, type SendResult } from '../../src/sync/sendToConnector';
import type { Claim, Ordering } from '../../src/sync/syncState';
import { sampleChange } from '../support/changes';
import { MemorySecrets } from '../support/unitApp';

const NOW = 1_800_000_000_000;
const delivered = (status = 201): Outcome => ({
  kind: 'delivered',
  code: 'delivered',
  message: `accepted (${status})`,
  status,
  durationMs: 3,
});

function connector(overrides: Partial<StoredConnector> = {}): StoredConnector {
  return {
    id: '11111111-2222-4333-8444-555555555555',
    name: 'unit',
    description: '',
    sourceApp: 'BCCRONUSUS',
    sourceType: null,
    backOffice: 'bc-onprem',
    apiType: 'rest',
    sendAppointments: true,
    databaseActions: ['I', 'U', 'D'],
    webServiceUri: 'https://bc.example.com/BC/api/x/v1.0/companies(1)/appointments',
    authType: 'basic',
    login: 'SVC',
    hasPassword: true,
    secretExpiresAt: null,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    secretName: 'conn-1',
    secretVersion: 'v1',
    revision: 1,
    ...overrides,
  };
}

function pending(
  c: StoredConnector,
  revision = 1,
  guid = randomUUID(),
  mode: PendingDelivery['mode'] = 'retry',
): PendingDelivery {
  const change = sampleChange({ revision, appointment: { appointmentGuid: guid } });
  return {
    connector: c,
    change,
    attempt: 0,
    firstAttemptAt: NOW,
    enqueuedAt: NOW,
    mode,
    fresh: mode === 'retry',
    base: rowBase(c, change, { traceId: null }),
    log: silentLogger,
  };
}

/** An ordering that claims everything unless told otherwise, and records every release. */
function ordering(decide: (revision: number) => Claim['kind'] = () => 'claimed', untilMs = NOW + 300_000) {
  const released: Array<[number, boolean]> = [];
  const renewed: number[] = [];
  const fake: Ordering = {
    async claim(_c, _g, revision) {
      const kind = decide(revision);
      if (kind === 'busy') return { kind: 'busy', inFlight: revision - 1 };
      if (kind === 'stale') return { kind: 'stale', lastDelivered: revision + 1, inFlight: null };
      return {
        kind: 'claimed',
        until: untilMs,
        async renew() {
          renewed.push(revision);
          return revision % 2 === 0; // even revisions were taken over meanwhile
        },
        async release(delivered) {
          released.push([revision, delivered]);
        },
      };
    },
  };
  return { fake, released, renewed };
}

/** A budget that grants (or not), and records releases with what they said. */
function budget(take: () => Take | 'grant' = () => 'grant') {
  const released: Array<{ throttledMs?: number }> = [];
  let out = 0;
  let peak = 0;
  const fake = {
    async take(): Promise<Take> {
      const t = take();
      if (t !== 'grant') return t;
      out++;
      peak = Math.max(peak, out);
      return {
        granted: true,
        permit: {
          release(result = {}) {
            out--;
            released.push(result);
          },
        },
      };
    },
    stats: { roundTrips: 0, permits: 0 },
    giveBackAll: async () => undefined,
    stateOf: () => 'idle' as const,
  } as PrincipalBudgets;
  return { fake, released, out: () => out, peak: () => peak };
}

/** A back office that answers from functions; records what it was sent. */
function backOffice(answer: { one?: () => Outcome; batch?: (n: number) => BatchResult; throws?: Error } = {}) {
  const sent: string[] = [];
  const batches: number[] = [];
  const fake: BackOfficeClient = {
    async deliver(_t, body) {
      if (answer.throws) throw answer.throws;
      sent.push(body.id);
      return answer.one?.() ?? delivered();
    },
    canBatch: (t) => t.apiType === 'rest' && t.webServiceUri.includes('/companies('),
    async deliverBatch(_t, bodies) {
      if (answer.throws) throw answer.throws;
      batches.push(bodies.length);
      sent.push(...bodies.map((b) => b.id));
      return answer.batch?.(bodies.length) ?? { refused: false, outcomes: bodies.map(() => delivered()) };
    },
    test: async () => {
      throw new Error('not used');
    },
  };
  return { fake, sent, batches };
}

function sender(parts: {
  ordering?: Ordering;
  budgets?: PrincipalBudgets;
  backOffice?: BackOfficeClient;
  secrets?: MemorySecrets;
}) {
  const secrets = parts.secrets ?? new MemorySecrets();
  if (!parts.secrets) void secrets.set('conn-1', 'unit-access-key-1');
  return createSender({
    backOffice: parts.backOffice ?? backOffice().fake,
    secrets,
    budgets: parts.budgets ?? budget().fake,
    ordering: parts.ordering ?? ordering().fake,
    sendBoundMs: 260_000,
    now: () => NOW,
  });
}

const kinds = (group: PendingDelivery[], results: Map<PendingDelivery, SendResult>) =>
  group.map((p) => {
    const r = results.get(p)!;
    return r.kind === 'outcome' ? `${r.kind}:${r.outcome.code}` : r.kind;
  });

describe('sendToConnector', () => {
  it('sends what waits for a batching connector as one $batch, one outcome each, and gives every claim back delivered', async () => {
    const o = ordering();
    const b = budget();
    const bo = backOffice();
    const group = [1, 2, 3].map((r) => pending(connector(), r));
    const results = await sender({ ordering: o.fake, budgets: b.fake, backOffice: bo.fake }).send(group);
    expect(kinds(group, results)).toEqual(['outcome:delivered', 'outcome:delivered', 'outcome:delivered']);
    expect(bo.batches).toEqual([3]);
    expect(o.released.sort()).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(b.released).toEqual([{}]);
    expect(b.out()).toBe(0);
  });

  it('sends only the newest revision of an appointment in a group; the older is stale, with the reason', async () => {
    const guid = randomUUID();
    const group = [pending(connector(), 3, guid), pending(connector(), 4, guid)];
    const results = await sender({}).send(group);
    expect(results.get(group[0]!)).toEqual({
      kind: 'stale',
      why: 'revision 4 of the appointment came in the same batch',
    });
    expect(results.get(group[1]!)).toMatchObject({ kind: 'outcome', outcome: { code: 'delivered' } });
  });

  it('leaves the stale and the waiting out of the request, each with its result', async () => {
    const bo = backOffice();
    const o = ordering((r) => (r === 1 ? 'stale' : r === 2 ? 'busy' : 'claimed'));
    const group = [1, 2, 3].map((r) => pending(connector(), r));
    const results = await sender({ ordering: o.fake, backOffice: bo.fake }).send(group);
    expect([...results.values()]).toEqual([
      { kind: 'stale', why: 'revision 2 was already sent (this is revision 1)' },
      { kind: 'waiting', inFlight: 1 },
      { kind: 'outcome', outcome: delivered() },
    ]);
    expect(bo.sent).toEqual([deliveryId(connector().id, group[2]!.change.appointment.appointmentGuid, 3)]);
  });

  it('fails every change of the group for a missing secret, and retries them for a Key Vault outage', async () => {
    const missing = new MemorySecrets();
    const group = [pending(connector(), 1)];
    const results = await sender({ secrets: missing }).send(group);
    expect(results.get(group[0]!)).toMatchObject({
      kind: 'outcome',
      outcome: { kind: 'permanent', code: 'config.secret-missing' },
    });
    const down = new MemorySecrets();
    down.down = true;
    const again = await sender({ secrets: down }).send(group);
    expect(again.get(group[0]!)).toMatchObject({
      kind: 'outcome',
      outcome: { kind: 'transient', code: 'secrets.unavailable' },
    });
  });

  it('defers the changes when the budget is spent, and gives their claims back undelivered', async () => {
    const o = ordering();
    const group = [1, 2].map((r) => pending(connector(), r));
    const results = await sender({
      ordering: o.fake,
      budgets: budget(() => ({ granted: false, retryAtMs: NOW + 7_000, reason: 'throttle' })).fake,
    }).send(group);
    expect([...results.values()]).toEqual([
      { kind: 'deferred', retryAtMs: NOW + 7_000, principal: 'user:bc.example.com:svc', reason: 'throttle' },
      { kind: 'deferred', retryAtMs: NOW + 7_000, principal: 'user:bc.example.com:svc', reason: 'throttle' },
    ]);
    expect(o.released.sort()).toEqual([
      [1, false],
      [2, false],
    ]);
  });

  it('renews a claim with too little time left, and lets one another instance took over wait', async () => {
    const o = ordering(() => 'claimed', NOW + 1_000); // far less than the 260 s a send may take
    const bo = backOffice();
    const group = [1, 2].map((r) =>
      pending(connector({ webServiceUri: 'https://hooks.example.com/x', backOffice: 'webhook' }), r),
    );
    const results = await sender({ ordering: o.fake, backOffice: bo.fake }).send(group);
    expect(o.renewed.sort()).toEqual([1, 2]);
    expect(results.get(group[0]!)).toEqual({ kind: 'waiting', inFlight: 1 });
    expect(results.get(group[1]!)).toMatchObject({ kind: 'outcome', outcome: { code: 'delivered' } });
    expect(bo.sent).toHaveLength(1);
  });

  it('sends the changes one by one, each with its own permit, when the server does not confirm the batch', async () => {
    const b = budget();
    const bo = backOffice({ batch: () => ({ refused: true, status: 204, reason: 'the $batch was answered 204' }) });
    const s = sender({ budgets: b.fake, backOffice: bo.fake });
    const group = [1, 2, 3].map((r) => pending(connector(), r));
    const results = await s.send(group);
    expect(kinds(group, results)).toEqual(['outcome:delivered', 'outcome:delivered', 'outcome:delivered']);
    expect(bo.batches).toEqual([3]);
    expect(bo.sent).toHaveLength(6); // three in the batch, then three singly
    expect(b.released).toHaveLength(4);
    expect(s.batches(connector())).toBe(false); // and singly for a while
  });

  it('tells the budget of a 429 among the outcomes, with the longest Retry-After', async () => {
    const b = budget();
    const throttled = (ms?: number): Outcome => ({
      kind: 'transient',
      code: 'http.throttled',
      message: 'too many',
      status: 429,
      durationMs: 1,
      ...(ms ? { retryAfterMs: ms } : {}),
    });
    const bo = backOffice({
      batch: () => ({ refused: false, outcomes: [throttled(2_000), throttled(9_000), delivered()] }),
    });
    await sender({ budgets: b.fake, backOffice: bo.fake }).send([1, 2, 3].map((r) => pending(connector(), r)));
    expect(b.released).toEqual([{ throttledMs: 9_000 }]);
    const single = budget();
    await sender({ budgets: single.fake, backOffice: backOffice({ one: () => throttled() }).fake }).send([
      pending(connector({ webServiceUri: 'https://hooks.example.com/x', backOffice: 'webhook' }), 1),
    ]);
    expect(single.released).toEqual([{ throttledMs: 5_000 }]);
  });

  it('gives every permit and claim back when the back office throws, and the error reaches the caller', async () => {
    const o = ordering();
    const b = budget();
    const bo = backOffice({ throws: new Error('bug') });
    const group = [1, 2].map((r) => pending(connector(), r));
    await expect(sender({ ordering: o.fake, budgets: b.fake, backOffice: bo.fake }).send(group)).rejects.toThrow('bug');
    expect(b.out()).toBe(0);
    expect(o.released.sort()).toEqual([
      [1, false],
      [2, false],
    ]);
  });

  it('a claim that cannot be given back fails the group: the appointment must not seem delivered earlier than it is', async () => {
    const failing: Ordering = {
      async claim(_c, _g, revision) {
        return {
          kind: 'claimed',
          until: NOW + 300_000,
          renew: async () => true,
          release: async () => {
            throw new Error(`storage down releasing ${revision}`);
          },
        };
      },
    };
    await expect(sender({ ordering: failing }).send([pending(connector(), 1)])).rejects.toThrow(
      'storage down releasing 1',
    );
  });

  it('sends singly to a connector that cannot batch, each under its own permit', async () => {
    const b = budget();
    const bo = backOffice();
    const soap = connector({
      apiType: 'soap',
      backOffice: 'nav',
      webServiceUri: 'https://nav.example.com/WS/CRONUS/Page/Appointment',
    });
    await sender({ budgets: b.fake, backOffice: bo.fake }).send([1, 2, 3].map((r) => pending(soap, r)));
    expect(bo.batches).toEqual([]);
    expect(bo.sent).toHaveLength(3);
    expect(b.released).toHaveLength(3);
  });

  it('lets a replay or resync claim the revision already delivered (the back office answers duplicate)', async () => {
    const allowed: boolean[] = [];
    const recording: Ordering = {
      async claim(_c, _g, _r, options) {
        allowed.push(options.allowEqual);
        return { kind: 'stale', lastDelivered: 1, inFlight: null };
      },
    };
    const c = connector();
    await sender({ ordering: recording }).send([
      pending(c, 1, randomUUID(), 'replay'),
      pending(c, 1, randomUUID(), 'resync'),
      pending(c, 1, randomUUID(), 'recover'),
      pending(c, 1, randomUUID(), 'retry'),
    ]);
    expect(allowed).toEqual([true, true, false, false]);
  });
});

describe('newestPerAppointment', () => {
  it('keeps the newest revision of each appointment, and says which revision superseded the others', () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const group = [
      pending(connector(), 2, a),
      pending(connector(), 7, a),
      pending(connector(), 5, b),
      pending(connector(), 3, a),
    ];
    const { newest, superseded } = newestPerAppointment(group);
    expect(newest.map((p) => p.change.revision)).toEqual([7, 5]);
    expect(superseded.map(({ p, by }) => [p.change.revision, by])).toEqual([
      [2, 7],
      [3, 7],
    ]);
  });
});
