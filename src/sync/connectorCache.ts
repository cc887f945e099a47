// A short-lived cache of the connectors of each source app, so the hot path is not a table read per message.
// A caller that must see every change made before some moment (a retry or recovery queued after the connector
// was fixed) says so with `loadedAfter`: an entry loaded earlier is loaded again.
import { normaliseSourceApp } from '../model/text';

export type ConnectorsOf<T> = (sourceApp: string, options?: { loadedAfter?: number }) => Promise<T>;

export function cachedBySourceApp<T>(
  load: (sourceApp: string) => Promise<T>,
  ttlMs: number,
  now: () => number = Date.now,
): ConnectorsOf<T> {
  if (ttlMs <= 0) return (sourceApp) => load(sourceApp);
  const cache = new Map<string, { loadedAt: number; value: Promise<T> }>();
  return (sourceApp, options = {}) => {
    const key = normaliseSourceApp(sourceApp);
    const hit = cache.get(key);
    if (hit && hit.loadedAt + ttlMs > now() && hit.loadedAt >= (options.loadedAfter ?? 0)) return hit.value;
    const value = load(sourceApp);
    cache.set(key, { loadedAt: now(), value });
    value.catch(() => cache.delete(key));
    return value;
  };
}
