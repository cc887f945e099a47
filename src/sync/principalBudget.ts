// One request budget per principal across every instance (Business Central: 5 requests processed at once,
// 6,000 per 5 minutes, per user or service principal). The shared part is one row per principal
// (stores/budgetStore.ts, arithmetic in budgetMath.ts); this is what one instance does with it.
//
// An instance's hold on a principal is in one of three states:
//   idle      it holds no slots and no reserved requests
//   holding   it holds `slots` slots under a lease until `until`, and `tokens` requests reserved in a bucket
//   expired   it held slots but the lease ran out (its renewals failed, or it was idle past it): as idle
// A caller of `take` moves through named steps, each decided by `nextStep` from what the instance holds:
//   grant          a slot of ours is free, the lease holds, a request is reserved: the permit
//   grow           all our slots are busy and we could use more: ask the row for more
//   wait-for-slot  all our slots are busy and the row said no a moment ago: wait for one of ours
//   acquire        no usable lease, no slot or no reserved request: ask the row (one read, one conditional write)
//   defer          the callers ahead cannot be served before this caller's deadline: try again at retryAtMs
// and after a refused `acquire`, `afterRefusal` decides between waiting for the row (wait-for-row) and defer.
// Transitions of the hold: acquire granted -> holding; a lease renewed every third of its length while
// requests are in flight; a 429 -> idle (the row pauses the principal); idle for a moment, or the instance
// stopping -> every slot and reserved request not in use goes back -> idle.
//
// `take` never waits for a spent window: the caller is told when to try again and defers the change on the
// queue. It waits only for a slot, up to `localWaitMs`: one of this instance's own, or one the row hands over.
import type { Clock } from '../platform/clock';
import type { Logger } from '../platform/logging';
import { instruments, principalAttribute } from '../platform/telemetry';
import type { BudgetState, BudgetStore } from '../stores/budgetStore';
import { applyGrant, applyThrottle, type BudgetLimits, type GrantRequest, tokenExpiry } from './budgetMath';

export interface BudgetSettings extends BudgetLimits {
  /** How long a grant of slots lasts without renewal. */
  leaseMs: number;
  /** How long `take` may wait for a slot before the change is deferred instead. */
  localWaitMs: number;
}

export interface Permit {
  /** Ends the request; `throttledMs` when the back office answered 429 (its Retry-After, or a back-off). */
  release(result?: { throttledMs?: number }): void;
}

/** Why a take was refused: the budget is spent (slots or requests), or a 429 paused the principal. */
export type DeferralReason = 'budget' | 'throttle';

export type Take = { granted: true; permit: Permit } | { granted: false; retryAtMs: number; reason: DeferralReason };

/** What one instance holds of one principal's budget, and who waits on it. */
interface Hold {
  slots: number;
  inUse: number;
  tokens: number;
  bucketStart: number;
  until: number;
  /** Callers waiting for one of this instance's slots. */
  waiters: Array<() => void>;
  /** How long a permit is held, on average (0 until the first one ends): how fast the waiters move. */
  holdMs: number;
  /** Callers inside `take`: the demand this instance asks the row for. */
  asking: number;
  /** Not before then does a busy instance ask the row for more slots again. */
  growAfter: number;
  /** The round trip to the row under way, if any: it decides what this instance holds. */
  acquiring?: Promise<{ retryAtMs: number; throttled: boolean } | undefined>;
  cancelIdle?: () => void;
  cancelRenew?: () => void;
  /** The principal as a metric attribute (hashed once). */
  principalHash?: string;
}

/** What `nextStep` decides from. */
export interface HoldView {
  now: number;
  deadline: number;
  slots: number;
  inUse: number;
  /** Reserved requests still usable (their bucket has not ended). */
  tokens: number;
  /** Lease time left. */
  leaseLeftMs: number;
  waiters: number;
  holdMs: number;
  asking: number;
  growAfter: number;
}

export type Step =
  | { step: 'grant' }
  | { step: 'grow'; slots: number }
  | { step: 'wait-for-slot'; untilMs: number }
  | { step: 'acquire'; slots: number; tokens: number }
  | { step: 'defer'; retryAtMs: number };

export type HoldState = 'idle' | 'holding' | 'expired';

/** After the row gave no more slots, how long an instance makes do with its own before asking again. */
export const GROW_PAUSE_MS = 1000;
/** The longest a change is deferred for a busy instance's slots. */
const MAX_LOCAL_DEFERRAL_MS = 60_000;
/** How long an instance with nothing in flight keeps its slots before giving them back. */
const IDLE_GIVE_BACK_MS = 250;
const MAX_WRITE_ROUNDS = 20;

/** How long to defer for a queue of callers that takes `aheadMs` to drain: at least a second, spread by a quarter. */
export const deferralMs = (aheadMs: number, random = Math.random) =>
  Math.round(Math.min(MAX_LOCAL_DEFERRAL_MS, Math.max(GROW_PAUSE_MS, aheadMs)) * (1 + random() / 4));

/** Requests reserved per round trip: enough to amortise it, few enough to leave the rest to other instances. */
export const chunkOf = (settings: Pick<BudgetLimits, 'requestsPerWindow'>) =>
  Math.max(1, Math.min(50, Math.floor(settings.requestsPerWindow / 100)));

/** The next step of a caller of `take`, from what the instance holds (a pure function: the table of the machine). */
export function nextStep(
  v: HoldView,
  settings: Pick<BudgetSettings, 'maxConcurrent' | 'leaseMs' | 'requestsPerWindow'>,
  random = Math.random,
): Step {
  const leased = v.leaseLeftMs > settings.leaseMs / 3;
  // What this instance wants: a slot for every request in flight or asking, up to the limit.
  const wantSlots = Math.min(settings.maxConcurrent, v.inUse + v.asking);
  if (leased && v.tokens > 0 && v.inUse < v.slots) return { step: 'grant' };
  if (leased && v.tokens > 0 && v.slots > 0) {
    // All of this instance's slots are busy: ask for more, unless the row said no a moment ago ...
    if (v.slots < wantSlots && v.now >= v.growAfter) return { step: 'grow', slots: wantSlots };
    // ... then wait for one of its own (a request takes milliseconds to seconds), unless the callers ahead cannot
    // be served before the deadline: then come back about when they will have been, rather than hold the
    // invocation only to defer it, and rather than all come back at once a second later.
    const aheadMs = (v.waiters * v.holdMs) / v.slots;
    if (v.now >= v.deadline || v.now + aheadMs > v.deadline)
      return { step: 'defer', retryAtMs: v.now + deferralMs(aheadMs, random) };
    return { step: 'wait-for-slot', untilMs: v.deadline };
  }
  return { step: 'acquire', slots: Math.max(v.slots, wantSlots), tokens: v.tokens > 0 ? 0 : chunkOf(settings) };
}

/**
 * The row refused: other instances hold the slots (or a 429 pause is ending). When it frees up before this
 * caller's deadline, wait and ask again (the row now counts this instance as waiting, so the others shrink to
 * their fair share); a spent window is further off, and the change is deferred until then.
 */
export function afterRefusal(
  v: Pick<HoldView, 'now' | 'deadline' | 'holdMs' | 'asking' | 'slots'>,
  retryAtMs: number,
  random = Math.random,
): { step: 'wait-for-row'; untilMs: number } | { step: 'defer'; retryAtMs: number } {
  if (retryAtMs <= v.deadline) return { step: 'wait-for-row', untilMs: retryAtMs };
  const aheadMs = v.holdMs * (v.asking / Math.max(1, v.slots));
  return { step: 'defer', retryAtMs: Math.max(retryAtMs, v.now + deferralMs(aheadMs, random)) };
}

export function createPrincipalBudgets(deps: {
  store: BudgetStore;
  settings: BudgetSettings;
  instanceId: string;
  log: Logger;
  clock: Clock;
  random?: () => number;
}) {
  const { settings, clock } = deps;
  const random = deps.random ?? Math.random;
  const holds = new Map<string, Hold>();
  /** Storage round trips (read + write) made, for the benchmark's figures. */
  const stats = { roundTrips: 0, permits: 0 };

  const holdOf = (principal: string): Hold => {
    let hold = holds.get(principal);
    if (!hold) {
      hold = {
        slots: 0,
        inUse: 0,
        tokens: 0,
        bucketStart: 0,
        until: 0,
        waiters: [],
        holdMs: 0,
        asking: 0,
        growAfter: 0,
      };
      holds.set(principal, hold);
    }
    return hold;
  };

  /** Reserved requests that may still be sent: only within the bucket they were counted in. */
  const usableTokens = (hold: Hold) => (clock.now() < tokenExpiry(hold.bucketStart, settings) ? hold.tokens : 0);

  const viewOf = (hold: Hold, deadline: number): HoldView => ({
    now: clock.now(),
    deadline,
    slots: hold.slots,
    inUse: hold.inUse,
    tokens: usableTokens(hold),
    leaseLeftMs: hold.until - clock.now(),
    waiters: hold.waiters.length,
    holdMs: hold.holdMs,
    asking: hold.asking,
    growAfter: hold.growAfter,
  });

  /** Read, apply, write with the ETag; again when another instance wrote first. */
  async function update<T>(
    principal: string,
    apply: (state: BudgetState) => { state: BudgetState; result: T },
  ): Promise<T> {
    for (let round = 0; ; round++) {
      stats.roundTrips++;
      const { state, etag } = await deps.store.read(principal);
      const next = apply(state);
      if (await deps.store.write(principal, next.state, etag)) return next.result;
      if (round >= MAX_WRITE_ROUNDS) throw new Error('the budget row is too contended');
    }
  }

  /** Asks the row for slots and requests (one round trip at a time); undefined when granted, else when to try again. */
  function acquire(principal: string, hold: Hold, wantSlots: number, wantTokens: number) {
    hold.acquiring ??= (async () => {
      try {
        const request: GrantRequest = {
          instance: deps.instanceId,
          slots: wantSlots,
          tokens: wantTokens,
          leaseMs: settings.leaseMs,
          // Giving every slot back returns the unused requests too, as does asking for fresh ones.
          returnTokens:
            (wantSlots === 0 || wantTokens > 0) && hold.tokens > 0
              ? { bucketStart: hold.bucketStart, count: hold.tokens }
              : undefined,
        };
        const result = await update(principal, (state) => {
          const r = applyGrant(state, request, settings, clock.now());
          return { state: r.state, result: r };
        });
        // The row took the returned requests back whether or not it granted anything.
        if (request.returnTokens) hold.tokens -= request.returnTokens.count;
        if (!result.granted) return { retryAtMs: result.retryAtMs, throttled: result.throttled };
        hold.slots = result.slots;
        hold.until = result.until;
        if (result.tokens > 0) {
          hold.tokens += result.tokens;
          hold.bucketStart = result.bucketStart;
        }
        return undefined;
      } finally {
        hold.acquiring = undefined;
      }
    })();
    return hold.acquiring;
  }

  /** holding: while requests are in flight the lease is renewed, so no other instance is handed their slots. */
  function keepRenewing(principal: string, hold: Hold) {
    if (hold.cancelRenew) return;
    hold.cancelRenew = clock.every(settings.leaseMs / 3, () => {
      if (hold.inUse === 0) {
        hold.cancelRenew?.();
        hold.cancelRenew = undefined;
        return;
      }
      acquire(principal, hold, Math.max(hold.slots, hold.inUse), 0).catch((error) =>
        deps.log.warn('budget.renew-failed', { error }),
      );
    });
  }

  /** holding -> idle: when this instance has nothing more to send, its slots and unused requests go back. */
  function giveBackWhenIdle(principal: string, hold: Hold) {
    hold.cancelIdle?.();
    hold.cancelIdle = clock.after(IDLE_GIVE_BACK_MS, () => {
      if (hold.inUse > 0 || hold.waiters.length > 0 || (hold.slots === 0 && hold.tokens === 0)) return;
      acquire(principal, hold, 0, 0).catch((error) => deps.log.warn('budget.give-back-failed', { error }));
    });
  }

  function permitFor(principal: string, hold: Hold): Permit {
    hold.inUse++;
    hold.tokens--;
    stats.permits++;
    hold.principalHash ??= principalAttribute(principal);
    const slots = { principal: hold.principalHash };
    instruments().budgetSlots.add(1, slots);
    keepRenewing(principal, hold);
    const taken = clock.now();
    let released = false;
    return {
      release(result = {}) {
        if (released) return;
        released = true;
        hold.inUse--;
        instruments().budgetSlots.add(-1, slots);
        const held = clock.now() - taken;
        hold.holdMs = hold.holdMs ? 0.8 * hold.holdMs + 0.2 * held : held;
        if (result.throttledMs !== undefined) {
          // holding -> idle: a 429 pauses the principal for everyone (the row), and this instance lets go.
          hold.slots = 0;
          hold.until = 0;
          const retryAfterMs = result.throttledMs;
          void update(principal, (state) => ({
            state: applyThrottle(state, settings, clock.now(), retryAfterMs),
            result: undefined,
          })).catch((error) => deps.log.warn('budget.throttle-report-failed', { error }));
        }
        hold.waiters.shift()?.();
        giveBackWhenIdle(principal, hold);
      },
    };
  }

  /** Waits until one of this instance's slots is released, or the deadline. */
  const waitForSlot = (hold: Hold, untilMs: number) =>
    new Promise<void>((resolve) => {
      const cancel = clock.after(untilMs - clock.now(), () => {
        const at = hold.waiters.indexOf(wake);
        if (at >= 0) hold.waiters.splice(at, 1);
        resolve();
      });
      const wake = () => {
        cancel();
        resolve();
      };
      hold.waiters.push(wake);
    });

  async function take(principal: string): Promise<Take> {
    const hold = holdOf(principal);
    hold.cancelIdle?.();
    hold.asking++;
    const deadline = clock.now() + settings.localWaitMs;
    try {
      for (;;) {
        // A round trip under way (a renewal, a give-back) decides what this instance holds: wait for it.
        if (hold.acquiring) await hold.acquiring.catch(() => undefined);
        const step = nextStep(viewOf(hold, deadline), settings, random);
        switch (step.step) {
          case 'grant':
            return { granted: true, permit: permitFor(principal, hold) };
          case 'defer':
            return { granted: false, retryAtMs: step.retryAtMs, reason: 'budget' };
          case 'wait-for-slot':
            await waitForSlot(hold, step.untilMs);
            break;
          case 'grow': {
            const before = hold.slots;
            await acquire(principal, hold, step.slots, 0);
            if (hold.slots <= before) hold.growAfter = clock.now() + GROW_PAUSE_MS;
            break;
          }
          case 'acquire': {
            const refused = await acquire(principal, hold, step.slots, step.tokens);
            if (!refused) break;
            const next = afterRefusal(viewOf(hold, deadline), refused.retryAtMs, random);
            if (next.step === 'defer')
              return { granted: false, retryAtMs: next.retryAtMs, reason: refused.throttled ? 'throttle' : 'budget' };
            await clock.sleep(next.untilMs - clock.now());
            break;
          }
        }
      }
    } finally {
      hold.asking--;
    }
  }

  /**
   * The instance is stopping (scale-in, a deployment, Ctrl-C): every slot and reserved request not in use goes
   * back now, so the other instances need not wait for the lease to run out.
   */
  async function giveBackAll(): Promise<void> {
    await Promise.all(
      [...holds].map(async ([principal, hold]) => {
        hold.cancelIdle?.();
        if (hold.acquiring) await hold.acquiring.catch(() => undefined);
        if (hold.slots <= hold.inUse && hold.tokens === 0) return;
        await acquire(principal, hold, hold.inUse, 0).catch((error) =>
          deps.log.warn('budget.give-back-failed', { error }),
        );
      }),
    );
  }

  /** The state of this instance's hold on a principal (for tests and diagnostics). */
  function stateOf(principal: string): HoldState {
    const hold = holds.get(principal);
    if (!hold) return 'idle';
    if (hold.slots > 0) return hold.until > clock.now() ? 'holding' : 'expired';
    return usableTokens(hold) > 0 ? 'holding' : 'idle';
  }

  return { take, stats, giveBackAll, stateOf };
}

export type PrincipalBudgets = ReturnType<typeof createPrincipalBudgets>;
