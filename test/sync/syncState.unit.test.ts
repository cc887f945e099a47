// Ordering per (connector, appointment): the claim decisions, table-driven, and the claim and release loop
// against a store that can lose races.
import { describe, expect, it } from 'vitest';
import type { SyncStateRow, SyncStateStore, WriteResult } from '../../src/stores/syncStateStore';
import { claimedRow, createOrdering, decideClaim, releasedRow } from '../../src/sync/syncState';

const NOW = 1_000_000;
const row = (lastDelivered: number | null, inFlight: number | null = null, leaseUntil = 0): SyncStateRow => ({
  lastDelivered,
  inFlight,
  leaseUntil,
});

describe('decideClaim', () => {
  it.each([
    ['first claim: no row yet', undefined, 5, false, { kind: 'claim' }],
    ['newer than delivered, nothing in flight', row(4), 5, false, { kind: 'claim' }],
    ['equal to delivered', row(5), 5, false, { kind: 'stale', lastDelivered: 5, inFlight: null }],
    ['equal to delivered, a replay may send it again', row(5), 5, true, { kind: 'claim' }],
    ['older than delivered', row(7), 5, false, { kind: 'stale', lastDelivered: 7, inFlight: null }],
    ['older than delivered, even for a replay', row(7), 5, true, { kind: 'stale', lastDelivered: 7, inFlight: null }],
    ['an older revision in flight: wait', row(3, 4, NOW + 1), 5, false, { kind: 'busy', inFlight: 4 }],
    [
      'a newer revision in flight: stale',
      row(3, 6, NOW + 1),
      5,
      false,
      { kind: 'stale', lastDelivered: 3, inFlight: 6 },
    ],
    ['the same revision in flight (a redelivery): claim again', row(3, 5, NOW + 1), 5, false, { kind: 'claim' }],
    ['an older claim whose lease ran out: claim', row(3, 4, NOW), 5, false, { kind: 'claim' }],
    ['a newer claim whose lease ran out: claim', row(3, 6, NOW - 1), 5, false, { kind: 'claim' }],
  ] as const)('%s', (_name, state, revision, allowEqual, expected) => {
    expect(decideClaim(state, revision, { allowEqual }, NOW)).toEqual(expected);
  });
});

describe('claimedRow and releasedRow', () => {
  it.each([
    ['delivered: moves lastDelivered on and drops the claim', row(3, 5, NOW), 5, true, row(5, null, 0)],
    ['not delivered: keeps lastDelivered and drops the claim', row(3, 5, NOW), 5, false, row(3, null, 0)],
    ['a replay of an older revision never moves lastDelivered back', row(8, 5, NOW), 5, true, row(8, null, 0)],
    ['another revision took the claim meanwhile: left alone', row(3, 6, NOW + 5), 5, true, row(5, 6, NOW + 5)],
    ['first delivery ever', row(null, 5, NOW), 5, true, row(5, null, 0)],
  ] as const)('%s', (_name, before, revision, delivered, after) => {
    expect(releasedRow(before, revision, delivered)).toEqual(after);
  });

  it('a claim keeps what was delivered and holds the revision until the lease ends', () => {
    expect(claimedRow(row(3), 5, NOW + 100)).toEqual(row(3, 5, NOW + 100));
    expect(claimedRow(undefined, 5, NOW + 100)).toEqual(row(null, 5, NOW + 100));
  });
});

/** A one-row store whose writes can be made to lose a race once. */
function memoryStore() {
  let state: { row: SyncStateRow; etag: string } | undefined;
  let version = 0;
  const store = {
    writes: 0,
    /** Before the next write lands, someone else writes this row. */
    interfere: undefined as SyncStateRow | undefined,
    state: () => state,
    async read() {
      return state && { row: { ...state.row }, etag: state.etag };
    },
    async create(_c: string, _a: string, r: SyncStateRow): Promise<WriteResult> {
      store.writes++;
      if (store.takeInterference() || state) return { ok: false };
      state = { row: r, etag: `v${++version}` };
      return { ok: true, etag: state.etag };
    },
    async update(_c: string, _a: string, r: SyncStateRow, etag: string): Promise<WriteResult> {
      store.writes++;
      store.takeInterference();
      if (!state || state.etag !== etag) return { ok: false };
      state = { row: r, etag: `v${++version}` };
      return { ok: true, etag: state.etag };
    },
    takeInterference() {
      if (!store.interfere) return false;
      state = { row: store.interfere, etag: `v${++version}` };
      store.interfere = undefined;
      return true;
    },
  };
  return store;
}

describe('claim and release against the store', () => {
  it('a first claim is one write, its release one more', async () => {
    const store = memoryStore();
    const ordering = createOrdering(store as unknown as SyncStateStore, 60_000, () => NOW);
    const claim = await ordering.claim('c', 'a', 1, { allowEqual: false, known: false });
    expect(claim.kind).toBe('claimed');
    expect(store.state()?.row).toEqual(row(null, 1, NOW + 60_000));
    if (claim.kind === 'claimed') await claim.release(true);
    expect(store.state()?.row).toEqual(row(1, null, 0));
    expect(store.writes).toBe(2);
  });

  it('looks again when another instance wins the row first, and finds itself stale', async () => {
    const store = memoryStore();
    const ordering = createOrdering(store as unknown as SyncStateStore, 60_000, () => NOW);
    store.interfere = row(null, 9, NOW + 60_000); // revision 9 claimed elsewhere in the meantime
    expect(await ordering.claim('c', 'a', 5, { allowEqual: false, known: false })).toEqual({
      kind: 'stale',
      lastDelivered: null,
      inFlight: 9,
    });
  });

  it('a release that meets a concurrent write reads again and still records the delivery', async () => {
    const store = memoryStore();
    const ordering = createOrdering(store as unknown as SyncStateStore, 60_000, () => NOW);
    const claim = await ordering.claim('c', 'a', 5, { allowEqual: false, known: false });
    store.interfere = row(null, 5, NOW + 120_000); // the same revision re-claimed by a redelivery
    if (claim.kind === 'claimed') await claim.release(true);
    expect(store.state()?.row).toEqual(row(5, null, 0));
  });

  it('waits behind an older revision until its lease runs out', async () => {
    const store = memoryStore();
    let now = NOW;
    const ordering = createOrdering(store as unknown as SyncStateStore, 60_000, () => now);
    await ordering.claim('c', 'a', 4, { allowEqual: false, known: false }); // never released: its instance died
    expect(await ordering.claim('c', 'a', 5, { allowEqual: false, known: false })).toEqual({
      kind: 'busy',
      inFlight: 4,
    });
    now += 60_000;
    expect((await ordering.claim('c', 'a', 5, { allowEqual: false, known: false })).kind).toBe('claimed');
  });

  it('renews a lease it still holds, and learns when a newer revision took over after it ran out', async () => {
    const store = memoryStore();
    let now = NOW;
    const ordering = createOrdering(store as unknown as SyncStateStore, 60_000, () => now);
    const old = await ordering.claim('c', 'a', 4, { allowEqual: false, known: false });
    if (old.kind !== 'claimed') throw new Error(old.kind);
    expect(old.until).toBe(NOW + 60_000);
    now += 50_000;
    expect(await old.renew()).toBe(true);
    expect(old.until).toBe(NOW + 110_000);
    expect(store.state()?.row).toEqual(row(null, 4, NOW + 110_000));
    now += 60_000; // the lease ran out: the instance was stuck
    expect((await ordering.claim('c', 'a', 5, { allowEqual: false, known: false })).kind).toBe('claimed');
    expect(await old.renew()).toBe(false);
    expect(store.state()?.row).toEqual(row(null, 5, now + 60_000));
  });
});
