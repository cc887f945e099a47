// The arithmetic of a principal's request budget, kept in one row that every instance reads and writes
// (stores/budgetStore.ts): request slots held under leases, so at most `maxConcurrent` requests are in flight
// across instances, and requests counted per time bucket, so at most `requestsPerWindow` start in any window.
// Requests reserved in a bucket may be sent until that bucket ends (`tokenExpiry`), and a bucket is counted for a
// window and two buckets after it starts: a request sent just before its bucket ends, and arriving a moment
// later, is still counted by the whole window the back office measures from its arrival. This overcounts at
// the window's edge: it can only send fewer than allowed, never more.
import type { BudgetState } from '../stores/budgetStore';

export interface BudgetLimits {
  maxConcurrent: number;
  requestsPerWindow: number;
  windowMs: number;
}

export interface GrantRequest {
  instance: string;
  /** Slots this instance wants to hold in all (0 gives every slot back). */
  slots: number;
  /** Requests to reserve now (0: none). */
  tokens: number;
  leaseMs: number;
  /** Reserved requests not used, given back to the bucket they were taken from (while it is in the window). */
  returnTokens?: { bucketStart: number; count: number };
}

export type GrantResult =
  | { granted: true; state: BudgetState; slots: number; tokens: number; bucketStart: number; until: number }
  /** Refused; `throttled` when a 429 paused the principal (not a spent budget). */
  | { granted: false; state: BudgetState; retryAtMs: number; throttled: boolean };

export const bucketMsOf = (limits: BudgetLimits) => Math.max(1000, Math.floor(limits.windowMs / 20));

/** Until when requests reserved in the bucket that starts at `bucketStart` may be sent. */
export const tokenExpiry = (bucketStart: number, limits: BudgetLimits) => bucketStart + bucketMsOf(limits);

/** How long a bucket counts against the window after it starts. */
const countedForMs = (limits: BudgetLimits) => limits.windowMs + 2 * bucketMsOf(limits);

/** The concurrency in force: lowered for a while after the back office answered 429. */
export const limitOf = (state: BudgetState, limits: BudgetLimits, now: number) =>
  state.reducedLimit !== null && state.reducedUntil > now ? state.reducedLimit : limits.maxConcurrent;

function pruned(state: BudgetState, limits: BudgetLimits, now: number): BudgetState {
  return {
    ...state,
    holders: state.holders.filter((h) => h.until > now && h.slots > 0),
    waiting: state.waiting.filter((w) => w.until > now),
    buckets: state.buckets.filter((b) => b.start + countedForMs(limits) > now && b.count > 0),
    reducedLimit: state.reducedUntil > now ? state.reducedLimit : null,
  };
}

export function applyGrant(previous: BudgetState, req: GrantRequest, limits: BudgetLimits, now: number): GrantResult {
  const bucketMs = bucketMsOf(limits);
  let state = pruned(previous, limits, now);
  if (req.returnTokens && req.returnTokens.count > 0) {
    const back = req.returnTokens;
    state = {
      ...state,
      buckets: state.buckets.map((b) =>
        b.start === back.bucketStart ? { ...b, count: Math.max(0, b.count - back.count) } : b,
      ),
    };
  }
  const others = state.holders.filter((h) => h.id !== req.instance);
  const withoutMe = { ...state, waiting: state.waiting.filter((w) => w.id !== req.instance) };
  const bucketStart = Math.floor(now / bucketMs) * bucketMs;

  if (req.slots === 0 && req.tokens === 0)
    return { granted: true, state: { ...withoutMe, holders: others }, slots: 0, tokens: 0, bucketStart, until: now };

  const deny = (retryAtMs: number, throttled = false): GrantResult => ({
    granted: false,
    state: {
      ...state,
      waiting: [...withoutMe.waiting, { id: req.instance, until: now + 2 * req.leaseMs }],
    },
    retryAtMs,
    throttled,
  });
  if (state.coolUntil > now) return deny(state.coolUntil, true);

  const limit = limitOf(state, limits, now);
  const othersSlots = others.reduce((sum, h) => sum + h.slots, 0);
  const othersWaiting = state.waiting.some((w) => w.id !== req.instance);
  const active = new Set([...others.map((h) => h.id), ...state.waiting.map((w) => w.id), req.instance]).size;
  // While others wait, nobody keeps more than a fair share.
  const fair = othersWaiting ? Math.max(1, Math.floor(limit / active)) : limit;
  const slots = Math.min(req.slots, Math.max(0, limit - othersSlots), fair);

  const used = state.buckets.reduce((sum, b) => sum + b.count, 0);
  const tokens = Math.min(req.tokens, Math.max(0, limits.requestsPerWindow - used));

  if (req.slots > 0 && slots === 0) return deny(now + Math.min(1000, req.leaseMs));
  if (req.tokens > 0 && tokens === 0) {
    const oldest = Math.min(...state.buckets.map((b) => b.start));
    return deny(oldest + countedForMs(limits));
  }

  const holders = slots > 0 ? [...others, { id: req.instance, slots, until: now + req.leaseMs }] : others;
  const current = state.buckets.find((b) => b.start === bucketStart);
  const buckets =
    tokens === 0
      ? state.buckets
      : current
        ? state.buckets.map((b) => (b === current ? { ...b, count: b.count + tokens } : b))
        : [...state.buckets, { start: bucketStart, count: tokens }];
  return {
    granted: true,
    state: { ...withoutMe, holders, buckets },
    slots,
    tokens,
    bucketStart,
    until: now + req.leaseMs,
  };
}

/**
 * The back office answered 429: no new requests until its Retry-After (or a back-off) has passed, and half the
 * concurrency for a while after.
 */
export function applyThrottle(
  previous: BudgetState,
  limits: BudgetLimits,
  now: number,
  retryAfterMs: number,
): BudgetState {
  const state = pruned(previous, limits, now);
  return {
    ...state,
    coolUntil: Math.max(state.coolUntil, now + retryAfterMs),
    reducedLimit: Math.max(1, Math.floor(limitOf(state, limits, now) / 2)),
    reducedUntil: now + Math.max(60_000, 2 * retryAfterMs),
  };
}
