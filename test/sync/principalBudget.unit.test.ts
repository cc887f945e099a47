// One principal's request budget as a state machine: the step a caller takes for each thing an instance can
// hold (a table of literal cases), then the machine run in process against the budget store on an in-memory
// table with ETags and a clock the test moves: grant, grow, wait, defer, a 429's pause, lease expiry,
// give-back, and two instances contending.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/platform/logging';
import { createBudgetStore } from '../../src/stores/budgetStore';
import {
  afterRefusal,
  type BudgetSettings,
  createPrincipalBudgets,
  deferralMs,
  type HoldView,
  nextStep,
  type Permit,
  type Step,
} from '../../src/sync/principalBudget';
import { MemoryTable } from '../fakes/memoryTable';
import { ManualClock, settle } from '../support/manualClock';

const T = 1_800_000_000_000;
const base: HoldView = {
  now: T,
  deadline: T + 30_000,
  slots: 2,
  inUse: 0,
  tokens: 10,
  leaseLeftMs: 15_000,
  waiters: 0,
  holdMs: 0,
  asking: 1,
  growAfter: 0,
};
const limits = { maxConcurrent: 5, leaseMs: 15_000, requestsPerWindow: 6000 };
const noJitter = () => 0;

describe('nextStep: what a caller of take does, for what the instance holds', () => {
  const cases: Array<[string, Partial<HoldView>, Step]> = [
    ['a free slot, a lease, a reserved request: grant', {}, { step: 'grant' }],
    [
      'nothing held yet: acquire a slot and 50 requests',
      { slots: 0, tokens: 0, leaseLeftMs: 0 },
      { step: 'acquire', slots: 1, tokens: 50 },
    ],
    [
      'the lease is down to its last third: acquire (renew) without requests',
      { leaseLeftMs: 5_000 },
      { step: 'acquire', slots: 2, tokens: 0 },
    ],
    ['the reserved requests are used up: acquire requests', { tokens: 0 }, { step: 'acquire', slots: 2, tokens: 50 }],
    ['all slots busy, more callers than slots: grow', { inUse: 2, asking: 2 }, { step: 'grow', slots: 4 }],
    [
      'all slots busy, the row said no a moment ago: wait for a slot',
      { inUse: 2, asking: 2, growAfter: T + 500 },
      { step: 'wait-for-slot', untilMs: T + 30_000 },
    ],
    [
      'all slots busy, as many as the limit: wait for a slot',
      { slots: 5, inUse: 5, asking: 3 },
      { step: 'wait-for-slot', untilMs: T + 30_000 },
    ],
    [
      'all slots busy, the callers ahead need longer than the deadline: defer about that long',
      { slots: 5, inUse: 5, asking: 3, waiters: 200, holdMs: 1_000 },
      { step: 'defer', retryAtMs: T + 40_000 },
    ],
    [
      'all slots busy at the deadline: defer a second',
      { slots: 5, inUse: 5, deadline: T },
      { step: 'defer', retryAtMs: T + 1_000 },
    ],
  ];
  it.each(cases)('%s', (_name, view, expected) => {
    expect(nextStep({ ...base, ...view }, limits, noJitter)).toEqual(expected);
  });
});

describe('afterRefusal: what a caller does when the row says no', () => {
  const cases: Array<[string, number, ReturnType<typeof afterRefusal>]> = [
    ['a slot frees within the deadline: wait for the row', T + 1_000, { step: 'wait-for-row', untilMs: T + 1_000 }],
    ['the window is spent for a minute: defer to then', T + 60_000, { step: 'defer', retryAtMs: T + 60_000 }],
  ];
  it.each(cases)('%s', (_name, retryAtMs, expected) => {
    expect(afterRefusal(base, retryAtMs, noJitter)).toEqual(expected);
  });
});

it('defers for at least a second and at most a minute, spread by up to a quarter', () => {
  expect(deferralMs(0, () => 0)).toBe(1000);
  expect(deferralMs(8000, () => 0)).toBe(8000);
  expect(deferralMs(8000, () => 1)).toBe(10_000);
  expect(deferralMs(3_600_000, () => 0)).toBe(60_000);
});

/** Instances sharing one principal's row on an in-memory table, with one clock. */
function world(settings: Partial<BudgetSettings> = {}) {
  const table = new MemoryTable('budgets');
  const store = createBudgetStore(async () => table.client());
  const clock = new ManualClock(T);
  const full: BudgetSettings = {
    maxConcurrent: 5,
    requestsPerWindow: 6000,
    windowMs: 300_000,
    leaseMs: 15_000,
    localWaitMs: 30_000,
    ...settings,
  };
  /** An instance; one on a clock of its own that never moves is a process that died (its timers never run). */
  const instance = (id: string, own: ManualClock = clock) =>
    createPrincipalBudgets({ store, settings: full, instanceId: id, log: silentLogger, clock: own, random: noJitter });
  return { table, store, clock, instance, principal: 'oauth:tenant:client' };
}

async function permit(budgets: ReturnType<ReturnType<typeof world>['instance']>, principal: string): Promise<Permit> {
  const take = await budgets.take(principal);
  if (!take.granted) throw new Error(`denied until ${take.retryAtMs}`);
  return take.permit;
}

describe('the machine, in process', () => {
  it('grant: the first take acquires a slot and 50 requests in one round trip, the next 49 need none', async () => {
    const w = world();
    const a = w.instance('a');
    (await permit(a, w.principal)).release();
    expect(a.stateOf(w.principal)).toBe('holding');
    expect((await w.store.read(w.principal)).state).toMatchObject({
      holders: [{ id: 'a', slots: 1, until: T + 15_000 }],
      buckets: [{ start: T, count: 50 }],
    });
    for (let i = 0; i < 49; i++) (await permit(a, w.principal)).release();
    expect(a.stats).toEqual({ roundTrips: 1, permits: 50 });
  });

  it('grow: callers beyond the slots held ask the row for more, up to the limit', async () => {
    const w = world();
    const a = w.instance('a');
    const held = await Promise.all(Array.from({ length: 5 }, () => permit(a, w.principal)));
    expect((await w.store.read(w.principal)).state.holders).toEqual([{ id: 'a', slots: 5, until: T + 15_000 }]);
    for (const p of held) p.release();
  });

  it('wait: a sixth caller waits for one of the five slots and gets it when a request ends', async () => {
    const w = world();
    const a = w.instance('a');
    const held = await Promise.all(Array.from({ length: 5 }, () => permit(a, w.principal)));
    let sixth: Permit | undefined;
    void permit(a, w.principal).then((p) => {
      sixth = p;
    });
    await w.clock.advance(2_000);
    expect(sixth).toBeUndefined();
    held[0]!.release();
    await settle();
    expect(sixth).toBeDefined();
    sixth!.release();
    for (const p of held.slice(1)) p.release();
  });

  it('defer: with the window spent, take says when the oldest bucket leaves the window', async () => {
    // 10 per 20 s: buckets of 1 s, one request reserved per round trip; a caller waits at most a second.
    const w = world({ requestsPerWindow: 10, windowMs: 20_000, localWaitMs: 1_000 });
    const a = w.instance('a');
    for (let i = 0; i < 10; i++) (await permit(a, w.principal)).release();
    expect(await a.take(w.principal)).toEqual({ granted: false, retryAtMs: T + 20_000 + 2 * 1_000, reason: 'budget' });
    await w.clock.advance(22_000);
    expect((await a.take(w.principal)).granted).toBe(true);
  });

  it('429 pause: a throttled answer pauses the principal for its Retry-After, for every instance, and halves the limit', async () => {
    const w = world({ localWaitMs: 0 });
    const [a, b] = [w.instance('a'), w.instance('b')];
    (await permit(a, w.principal)).release({ throttledMs: 8_000 });
    await w.clock.advance(250);
    expect(a.stateOf(w.principal)).toBe('idle');
    expect((await w.store.read(w.principal)).state).toMatchObject({
      holders: [],
      coolUntil: T + 8_000,
      reducedLimit: 2,
      reducedUntil: T + 60_000,
    });
    expect(await b.take(w.principal)).toEqual({ granted: false, retryAtMs: T + 8_000, reason: 'throttle' });
    await w.clock.advance(8_000 - 250);
    const during = await Promise.all(Array.from({ length: 3 }, () => b.take(w.principal)));
    expect(during.filter((t) => t.granted)).toHaveLength(2); // the halved limit holds for a minute
  });

  it('lease expiry: the slots of an instance that died come back to the others when its lease runs out', async () => {
    const w = world({ localWaitMs: 0 });
    const dead = w.instance('dead', new ManualClock(T));
    for (let i = 0; i < 5; i++) await permit(dead, w.principal); // never released: the process is gone
    const survivor = w.instance('survivor');
    expect((await survivor.take(w.principal)).granted).toBe(false);
    await w.clock.advance(15_000);
    const again = await Promise.all(Array.from({ length: 5 }, () => survivor.take(w.principal)));
    expect(again.every((t) => t.granted)).toBe(true);
  });

  it('lease renewal: while requests run the lease is renewed, so a long request keeps its slot', async () => {
    const w = world({ localWaitMs: 0 });
    const a = w.instance('a');
    const long = await permit(a, w.principal);
    await w.clock.advance(40_000); // renewed every 5 s
    expect(a.stateOf(w.principal)).toBe('holding');
    expect((await w.store.read(w.principal)).state.holders[0]!.until).toBeGreaterThan(T + 40_000);
    long.release();
  });

  it('give-back: an idle instance returns its slots and unused requests a moment after its last request', async () => {
    const w = world();
    const a = w.instance('a');
    (await permit(a, w.principal)).release();
    await w.clock.advance(250);
    expect(a.stateOf(w.principal)).toBe('idle');
    expect((await w.store.read(w.principal)).state).toMatchObject({ holders: [], buckets: [{ start: T, count: 1 }] });
  });

  it('give-back on stop: a stopping instance returns what it does not use at once', async () => {
    const w = world();
    const a = w.instance('a');
    const inFlight = await permit(a, w.principal);
    (await permit(a, w.principal)).release();
    await a.giveBackAll();
    expect((await w.store.read(w.principal)).state.holders).toEqual([{ id: 'a', slots: 1, until: T + 15_000 }]);
    inFlight.release();
  });

  it('two instances contending: never more than the limit in flight, and the one waiting gets its fair share', async () => {
    const w = world({ maxConcurrent: 4 });
    const [a, b] = [w.instance('a'), w.instance('b')];
    const heldByA = await Promise.all(Array.from({ length: 4 }, () => permit(a, w.principal)));
    let granted = 0;
    const waitingB = Array.from({ length: 2 }, () =>
      permit(b, w.principal).then((p) => {
        granted++;
        return p;
      }),
    );
    await w.clock.advance(2_000);
    expect(granted).toBe(0); // a holds all four; b asks the row again every second and is counted as waiting
    // a finishes two requests; at its next renewal the row, seeing b wait, leaves a its fair half.
    heldByA[0]!.release();
    heldByA[1]!.release();
    await w.clock.advance(5_000);
    expect(granted).toBe(2);
    const holders = (await w.store.read(w.principal)).state.holders;
    expect(holders.reduce((sum, h) => sum + h.slots, 0)).toBeLessThanOrEqual(4);
    for (const p of [...heldByA.slice(2), ...(await Promise.all(waitingB))]) p.release();
  });

  it('two instances writing the row at once: the ETag makes one read again, and nothing is counted twice', async () => {
    const w = world({ requestsPerWindow: 1000 });
    const [a, b] = [w.instance('a'), w.instance('b')];
    const permits = await Promise.all([...Array(5)].map((_, i) => permit(i % 2 ? a : b, w.principal)));
    const state = (await w.store.read(w.principal)).state;
    expect(state.holders.reduce((sum, h) => sum + h.slots, 0)).toBeLessThanOrEqual(5);
    expect(state.buckets).toEqual([{ start: T, count: 20 }]); // ten requests reserved by each, once
    for (const p of permits) p.release();
  });

  it('never has more than maxConcurrent requests in flight across instances; the others are told when to come back', async () => {
    const w = world({ localWaitMs: 0 });
    const [a, b] = [w.instance('a'), w.instance('b')];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).take(w.principal)));
    expect(results.filter((r) => r.granted)).toHaveLength(5);
    for (const r of results) if (!r.granted) expect(r.retryAtMs).toBeGreaterThan(T);
  });

  it('sends reserved requests only within their bucket, and gives the rest back', async () => {
    // 1,000 per 20 s: ten requests reserved per round trip, buckets of 1 s.
    const w = world({ requestsPerWindow: 1000, windowMs: 20_000 });
    const a = w.instance('a');
    (await permit(a, w.principal)).release();
    expect((await w.store.read(w.principal)).state.buckets).toEqual([{ start: T, count: 10 }]);
    await w.clock.advance(1000);
    const second = await permit(a, w.principal);
    // The nine unsent requests went back to their bucket; ten were counted in the new one.
    expect((await w.store.read(w.principal)).state.buckets).toEqual([
      { start: T, count: 1 },
      { start: T + 1000, count: 10 },
    ]);
    second.release();
  });

  it('defers a caller the slots cannot serve in time until the callers ahead should be through', async () => {
    const w = world({ maxConcurrent: 1, localWaitMs: 1000 });
    const a = w.instance('a');
    const first = await permit(a, w.principal);
    await w.clock.advance(400); // a request takes 400 ms here
    first.release();
    const held = await permit(a, w.principal);
    // Three callers wait: the third is 800 ms behind, still within the 1 s it may wait.
    const waiting = [a.take(w.principal), a.take(w.principal), a.take(w.principal)];
    await settle();
    // The fourth would be 1,200 ms behind: deferred at once, for that long (no jitter here).
    expect(await a.take(w.principal)).toEqual({ granted: false, retryAtMs: w.clock.now() + 1200, reason: 'budget' });
    // The three waiting get the slot in turn.
    held.release();
    for (const next of waiting) {
      const take = await next;
      expect(take.granted).toBe(true);
      if (take.granted) take.permit.release();
    }
  });

  it('waits for a slot another instance gives back before its deadline, instead of deferring at once', async () => {
    const w = world({ maxConcurrent: 1, localWaitMs: 3000 });
    const [a, b] = [w.instance('a'), w.instance('b')];
    const held = await permit(a, w.principal);
    let taken: Awaited<ReturnType<typeof b.take>> | undefined;
    void b.take(w.principal).then((t) => {
      taken = t;
    }); // the row says no for now: b asks again a second later
    await w.clock.advance(100);
    held.release(); // a goes idle and gives its slot back 250 ms later
    await w.clock.advance(1_000);
    expect(taken?.granted).toBe(true);
    if (taken?.granted) taken.permit.release();
  });
});
