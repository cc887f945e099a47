// The shared budget of one principal, as arithmetic on its row: slots under leases, requests per bucket, fair
// shares while others wait, a pause and a lower limit after a 429.
import { describe, expect, it } from 'vitest';
import { emptyBudget } from '../../src/stores/budgetStore';
import { applyGrant, applyThrottle, type BudgetLimits, limitOf } from '../../src/sync/budgetMath';

const limits: BudgetLimits = { maxConcurrent: 5, requestsPerWindow: 600, windowMs: 30_000 };
const T = 1_000_000_000;
const ask = (instance: string, slots: number, tokens: number, extra = {}) => ({
  instance,
  slots,
  tokens,
  leaseMs: 15_000,
  ...extra,
});

describe('applyGrant', () => {
  it('grants slots and requests to a first instance, and records them', () => {
    const r = applyGrant(emptyBudget(), ask('a', 5, 6), limits, T);
    expect(r).toMatchObject({ granted: true, slots: 5, tokens: 6, until: T + 15_000 });
    if (!r.granted) throw new Error('denied');
    expect(r.state.holders).toEqual([{ id: 'a', slots: 5, until: T + 15_000 }]);
    expect(r.state.buckets).toEqual([{ start: T - (T % 1500), count: 6 }]);
  });

  it('never hands out more than the limit across instances, and denies with a time to come back', () => {
    const a = applyGrant(emptyBudget(), ask('a', 4, 1), limits, T);
    if (!a.granted) throw new Error('denied');
    const b = applyGrant(a.state, ask('b', 5, 1), limits, T + 1);
    expect(b).toMatchObject({ granted: true, slots: 1 });
    if (!b.granted) throw new Error('denied');
    const c = applyGrant(b.state, ask('c', 1, 1), limits, T + 2);
    expect(c).toMatchObject({ granted: false, retryAtMs: T + 2 + 1000, throttled: false });
    expect(c.state.waiting).toEqual([{ id: 'c', until: T + 2 + 30_000 }]);
  });

  it("gives a dead instance's slots back when its lease runs out", () => {
    const a = applyGrant(emptyBudget(), ask('a', 5, 1), limits, T);
    if (!a.granted) throw new Error('denied');
    expect(applyGrant(a.state, ask('b', 1, 1), limits, T + 14_999).granted).toBe(false);
    expect(applyGrant(a.state, ask('b', 1, 1), limits, T + 15_000)).toMatchObject({ granted: true, slots: 1 });
  });

  it('keeps a holder to a fair share while another instance waits', () => {
    let state = emptyBudget();
    const a = applyGrant(state, ask('a', 5, 1), limits, T);
    if (!a.granted) throw new Error('denied');
    const b = applyGrant(a.state, ask('b', 1, 1), limits, T + 1); // nothing left: b waits
    expect(b.granted).toBe(false);
    state = b.state;
    const renewed = applyGrant(state, ask('a', 5, 0), limits, T + 2); // a renews, but b is waiting
    expect(renewed).toMatchObject({ granted: true, slots: 2 });
    if (!renewed.granted) throw new Error('denied');
    // What a gave back is b's now: together they hold the limit, no more.
    expect(applyGrant(renewed.state, ask('b', 3, 1), limits, T + 3)).toMatchObject({ granted: true, slots: 3 });
  });

  it('counts requests in buckets of a twentieth of the window, each counted for the window and two buckets', () => {
    const full = applyGrant(emptyBudget(), ask('a', 1, 600), limits, T);
    if (!full.granted) throw new Error('denied');
    const denied = applyGrant(full.state, ask('a', 1, 1), limits, T + 10_000);
    const bucket = T - (T % 1500);
    expect(denied).toMatchObject({ granted: false, retryAtMs: bucket + 2 * 1500 + 30_000 });
    expect(applyGrant(full.state, ask('a', 1, 1), limits, bucket + 2 * 1500 + 30_000)).toMatchObject({
      granted: true,
      tokens: 1,
    });
  });

  it('takes unused requests back when an instance gives its slots back', () => {
    const a = applyGrant(emptyBudget(), ask('a', 2, 50), limits, T);
    if (!a.granted) throw new Error('denied');
    const back = applyGrant(
      a.state,
      ask('a', 0, 0, { returnTokens: { bucketStart: a.bucketStart, count: 45 } }),
      limits,
      T + 5,
    );
    expect(back.state.holders).toEqual([]);
    expect(back.state.buckets).toEqual([{ start: a.bucketStart, count: 5 }]);
  });
});

describe('applyThrottle', () => {
  it('pauses the principal for the Retry-After and halves its concurrency for a while', () => {
    const throttled = applyThrottle(emptyBudget(), limits, T, 7000);
    expect(throttled).toMatchObject({ coolUntil: T + 7000, reducedLimit: 2, reducedUntil: T + 60_000 });
    expect(applyGrant(throttled, ask('a', 5, 1), limits, T + 6999)).toMatchObject({
      granted: false,
      retryAtMs: T + 7000,
      throttled: true,
    });
    expect(applyGrant(throttled, ask('a', 5, 1), limits, T + 7000)).toMatchObject({ granted: true, slots: 2 });
    expect(limitOf(throttled, limits, T + 60_000)).toBe(5);
  });
});
