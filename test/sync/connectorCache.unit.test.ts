// The short-lived cache of each source app's connectors: one load per source app (however it is written) while
// it is fresh, a new load once it is not, and a failed load is never cached.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedBySourceApp } from '../../src/sync/connectorCache';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(() => vi.useRealTimers());

describe('cachedBySourceApp', () => {
  it('loads a source app once while fresh, whatever its case, and again after the time to live', async () => {
    const load = vi.fn(async (app: string) => [app]);
    const cached = cachedBySourceApp(load, 15_000);
    expect(await cached('BCCRONUSUS')).toEqual(['BCCRONUSUS']);
    expect(await cached('bccronusus')).toEqual(['BCCRONUSUS']);
    expect(load).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(15_001);
    await cached('BCCRONUSUS');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('shares one load between callers that ask at once', async () => {
    let resolve!: (v: string[]) => void;
    const load = vi.fn(() => new Promise<string[]>((r) => (resolve = r)));
    const cached = cachedBySourceApp(load, 15_000);
    const both = Promise.all([cached('A'), cached('A')]);
    resolve(['c']);
    expect(await both).toEqual([['c'], ['c']]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not cache a failed load', async () => {
    const load = vi.fn().mockRejectedValueOnce(new Error('storage down')).mockResolvedValue(['c']);
    const cached = cachedBySourceApp(load, 15_000);
    await expect(cached('A')).rejects.toThrow('storage down');
    expect(await cached('A')).toEqual(['c']);
  });

  it('with a time to live of 0 is no cache at all', async () => {
    const load = vi.fn(async () => ['c']);
    const cached = cachedBySourceApp(load, 0);
    await cached('A');
    await cached('A');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('loads again for a caller that must see what changed after a moment the entry is older than', async () => {
    const load = vi.fn(async () => ['c']);
    const cached = cachedBySourceApp(load, 15_000);
    await cached('A');
    vi.advanceTimersByTime(1_000);
    const fixedAt = Date.now(); // say, the connector was fixed now and its recovery queued
    await cached('A', { loadedAfter: fixedAt });
    await cached('A', { loadedAfter: fixedAt });
    expect(load).toHaveBeenCalledTimes(2);
  });
});
