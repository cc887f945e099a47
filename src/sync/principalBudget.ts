// One request budget per principal across every instance (Business Central: 5 requests processed at once,
// 6,000 per 5 minutes, per user or service principal). Each instance holds a share of the slots under a
// lease and reserves requests in chunks, so one storage round trip (a read and a conditional write) serves
// many requests; a slot held by an instance that died comes back when its lease runs out.
//
// `take` never waits for a spent window: the caller is told when to try again and defers the change on the
// queue. It only waits, briefly (up to its deadline), for a slot: one of this instance's own to free up, or
// the row to hand it one.
import type { Logger } from '../platform/logging';
import type { BudgetStore } from '../stores/budgetStore';
import { applyGrant, applyThrottle, type BudgetLimits, type GrantRequest, tokenExpiry } from './budgetMath';

export interface BudgetSettings extends BudgetLimits {
  /** How long a grant of slots lasts without renewal. */
  leaseMs?: number;
  /** How long `take` waits for one of this instance's slots. */
  localWaitMs?: number;
}

export interface Permit {
  /** Ends the request; `throttledMs` when the back office answered 429 (its Retry-After, or a back-off). */
  release(result?: { throttledMs?: number }): void;
}

export type Take = { granted: true; permit: Permit } | { granted: false; retryAtMs: number };

interface Local {
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
  acquiring?: Promise<{ retryAtMs: number } | undefined>;
  idleTimer?: NodeJS.Timeout;
  renewTimer?: NodeJS.Timeout;
}

const MAX_WRITE_ROUNDS = 20;
/** After the row gave no more slots, how long an instance makes do with its own before asking again. */
const GROW_PAUSE_MS = 1000;
/** The longest a change is deferred for a busy instance's slots. */
const MAX_LOCAL_DEFERRAL_MS = 60_000;

/** How long to defer for a queue of callers that takes `aheadMs` to drain: at least a second, spread by a quarter. */
export const deferralMs = (aheadMs: number, random = Math.random) =>
  Math.round(Math.min(MAX_LOCAL_DEFERRAL_MS, Math.max(GROW_PAUSE_MS, aheadMs)) * (1 + random() / 4));

export function createPrincipalBudgets(deps: {
  store: BudgetStore;
  settings: BudgetSettings;
  instanceId: string;
  log: Logger;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const leaseMs = deps.settings.leaseMs ?? 15_000;
  const localWaitMs = deps.settings.localWaitMs ?? 5_000;
  // Requests reserved per round trip: enough to amortise, few enough to leave the rest to other instances.
  const chunk = Math.max(1, Math.min(50, Math.floor(deps.settings.requestsPerWindow / 100)));
  const locals = new Map<string, Local>();
  /** Storage round trips (read + write) made, for the benchmark's figures. */
  const stats = { roundTrips: 0, permits: 0 };

  /** Reserved requests that may still be sent: only within the bucket they were counted in. */
  const usableTokens = (local: Local) => (now() < tokenExpiry(local.bucketStart, deps.settings) ? local.tokens : 0);

  const localOf = (principal: string): Local => {
    let local = locals.get(principal);
    if (!local) {
      local = {
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
      locals.set(principal, local);
    }
    return local;
  };

  /** Read, apply, write with the ETag; again when another instance wrote first. */
  async function update<T>(
    principal: string,
    apply: (state: Parameters<typeof applyGrant>[0]) => { state: Parameters<typeof applyGrant>[0]; result: T },
  ): Promise<T> {
    for (let round = 0; ; round++) {
      stats.roundTrips++;
      const { state, etag } = await deps.store.read(principal);
      const next = apply(state);
      if (await deps.store.write(principal, next.state, etag)) return next.result;
      if (round >= MAX_WRITE_ROUNDS) throw new Error('the budget row is too contended');
    }
  }

  /** Asks the shared budget for slots and requests; undefined when granted, else when to try again. */
  function acquire(principal: string, local: Local, wantSlots: number, wantTokens: number) {
    local.acquiring ??= (async () => {
      try {
        const request: GrantRequest = {
          instance: deps.instanceId,
          slots: wantSlots,
          tokens: wantTokens,
          leaseMs,
          // Giving every slot back returns the unused requests too, as does asking for fresh ones.
          returnTokens:
            (wantSlots === 0 || wantTokens > 0) && local.tokens > 0
              ? { bucketStart: local.bucketStart, count: local.tokens }
              : undefined,
        };
        const result = await update(principal, (state) => {
          const r = applyGrant(state, request, deps.settings, now());
          return { state: r.state, result: r };
        });
        // The row took the returned requests back whether or not it granted anything.
        if (request.returnTokens) local.tokens -= request.returnTokens.count;
        if (!result.granted) return { retryAtMs: result.retryAtMs };
        local.slots = result.slots;
        local.until = result.until;
        if (result.tokens > 0) {
          local.tokens += result.tokens;
          local.bucketStart = result.bucketStart;
        }
        return undefined;
      } finally {
        local.acquiring = undefined;
      }
    })();
    return local.acquiring;
  }

  /** While requests are in flight the lease is renewed, so no other instance is handed their slots. */
  function keepRenewing(principal: string, local: Local) {
    if (local.renewTimer) return;
    local.renewTimer = setInterval(() => {
      if (local.inUse === 0) {
        clearInterval(local.renewTimer);
        local.renewTimer = undefined;
        return;
      }
      acquire(principal, local, Math.max(local.slots, local.inUse), 0).catch((error) =>
        deps.log.warn('budget.renew-failed', { error }),
      );
    }, leaseMs / 3);
    local.renewTimer.unref();
  }

  /** When this instance has nothing more to send, its slots and unused requests go back at once. */
  function giveBackWhenIdle(principal: string, local: Local) {
    clearTimeout(local.idleTimer);
    local.idleTimer = setTimeout(() => {
      if (local.inUse > 0 || local.waiters.length > 0 || (local.slots === 0 && local.tokens === 0)) return;
      acquire(principal, local, 0, 0).catch((error) => deps.log.warn('budget.give-back-failed', { error }));
    }, 250);
    local.idleTimer.unref();
  }

  function permitFor(principal: string, local: Local): Permit {
    local.inUse++;
    local.tokens--;
    stats.permits++;
    keepRenewing(principal, local);
    const taken = now();
    let released = false;
    return {
      release(result = {}) {
        if (released) return;
        released = true;
        local.inUse--;
        const held = now() - taken;
        local.holdMs = local.holdMs ? 0.8 * local.holdMs + 0.2 * held : held;
        if (result.throttledMs !== undefined) {
          local.slots = 0;
          local.until = 0;
          const retryAfterMs = result.throttledMs;
          void update(principal, (state) => ({
            state: applyThrottle(state, deps.settings, now(), retryAfterMs),
            result: undefined,
          })).catch((error) => deps.log.warn('budget.throttle-report-failed', { error }));
        }
        local.waiters.shift()?.();
        giveBackWhenIdle(principal, local);
      },
    };
  }

  async function take(principal: string): Promise<Take> {
    const local = localOf(principal);
    clearTimeout(local.idleTimer);
    local.asking++;
    try {
      return await takeFor(principal, local, now() + localWaitMs);
    } finally {
      local.asking--;
    }
  }

  async function takeFor(principal: string, local: Local, deadline: number): Promise<Take> {
    for (;;) {
      // A round trip in progress (a renewal, a give-back) decides what this instance holds: wait for it.
      if (local.acquiring) await local.acquiring.catch(() => undefined);
      const leased = local.until - now() > leaseMs / 3;
      const tokens = usableTokens(local);
      // What this instance wants: a slot for every request in flight or asking, up to the limit.
      const wantSlots = Math.min(deps.settings.maxConcurrent, local.inUse + local.asking);
      if (leased && tokens > 0 && local.inUse < local.slots)
        return { granted: true, permit: permitFor(principal, local) };
      if (leased && tokens > 0 && local.slots > 0) {
        // All of this instance's slots are busy: ask for more, unless the row said no a moment ago ...
        if (local.slots < wantSlots && now() >= local.growAfter) {
          const before = local.slots;
          await acquire(principal, local, wantSlots, 0);
          if (local.slots <= before) local.growAfter = now() + GROW_PAUSE_MS;
          continue;
        }
        // ... then wait for one of its own (a request takes milliseconds to seconds), unless the callers ahead
        // cannot be served before the deadline: then come back about when they will have been, rather than
        // hold the invocation only to defer it, and rather than all come back at once a second later.
        const aheadMs = (local.waiters.length * local.holdMs) / local.slots;
        if (now() >= deadline || now() + aheadMs > deadline)
          return { granted: false, retryAtMs: now() + deferralMs(aheadMs) };
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - now()));
          local.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        continue;
      }
      const denied = await acquire(principal, local, Math.max(local.slots, wantSlots), tokens > 0 ? 0 : chunk);
      if (!denied) continue;
      // Other instances hold the slots (or a 429 pause is ending): when the row frees up before this caller's
      // deadline, wait and ask again (the row now counts this instance as waiting, so the others shrink to
      // their fair share); a spent window is further off, and the change is deferred until then.
      if (denied.retryAtMs > deadline) {
        const aheadMs = local.holdMs * (local.asking / Math.max(1, local.slots));
        return { granted: false, retryAtMs: Math.max(denied.retryAtMs, now() + deferralMs(aheadMs)) };
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, denied.retryAtMs - now())));
    }
  }

  /**
   * The instance is stopping (scale-in, a deployment, Ctrl-C): every slot and reserved request not in use goes
   * back now, so the other instances need not wait for the lease to run out.
   */
  async function giveBackAll(): Promise<void> {
    await Promise.all(
      [...locals].map(async ([principal, local]) => {
        clearTimeout(local.idleTimer);
        if (local.acquiring) await local.acquiring.catch(() => undefined);
        if (local.slots <= local.inUse && local.tokens === 0) return;
        await acquire(principal, local, local.inUse, 0).catch((error) =>
          deps.log.warn('budget.give-back-failed', { error }),
        );
      }),
    );
  }

  return { take, stats, giveBackAll };
}

export type PrincipalBudgets = ReturnType<typeof createPrincipalBudgets>;
