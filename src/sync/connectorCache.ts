// A short-lived cache of the connectors of each source app, so the hot path is not a table read per message.
import { normaliseSourceApp } from '../model/text';

export function cachedBySourceApp<T>(
  load: (sourceApp: string) => Promise<T>,
  ttlMs: number,
): (sourceApp: string) => Promise<T> {
  if (ttlMs <= 0) return load;
  const cache = new Map<string, { until: number; value: Promise<T> }>();
  return (sourceApp) => {
    const key = normaliseSourceApp(sourceApp);
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = load(sourceApp);
    cache.set(key, { until: Date.now() + ttlMs, value });
    value.catch(() => cache.delete(key));
    return value;
  };
}
