// Bounded waits. Every call to storage or Key Vault has a per-try timeout and an overall deadline of its own
// (platform/boundedHttp.ts); on top of that, work done for one HTTP request (or one health probe) carries an
// ambient deadline, so a dependency that stops answering (frozen, not down) turns into a 503 in bounded time
// instead of a request that waits as long as the freeze lasts.
import { AsyncLocalStorage } from 'node:async_hooks';

const ambient = new AsyncLocalStorage<{ until: number }>();

/** Runs `work` so that every bounded call inside it ends within `ms` (or the deadline already in force). */
export function withinDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const until = Math.min(Date.now() + ms, ambient.getStore()?.until ?? Number.POSITIVE_INFINITY);
  return ambient.run({ until }, work);
}

/**
 * Runs `work` that waits on something other than the app's dependencies (a back office in a connection test,
 * which has timeouts of its own): the time it takes does not count against the ambient deadline.
 */
export async function notCounting<T>(work: () => Promise<T>): Promise<T> {
  const store = ambient.getStore();
  const started = Date.now();
  try {
    return await work();
  } finally {
    if (store) store.until += Date.now() - started;
  }
}

/** Milliseconds left before the ambient deadline (Infinity outside one). */
export function remainingMs(): number {
  const store = ambient.getStore();
  return store ? Math.max(0, store.until - Date.now()) : Number.POSITIVE_INFINITY;
}

export interface Bounds {
  /**
   * One try of a storage or Key Vault request. They answer in milliseconds when well; a try that runs out is
   * tried again. Generous, because a try that ran out may still have been applied: every write is made so that
   * doing it twice is harmless, but a busy dependency should not be made busier with needless retries.
   */
  perTryMs: number;
  /** One call, its retries included: what a queue invocation waits at most before it fails and is retried. */
  overallMs: number;
}

/** The bounds of one call from its overall limit (DEPENDENCY_TIMEOUT_SECONDS): three tries' worth. */
export const boundsOf = (overallMs: number): Bounds => ({ perTryMs: Math.ceil(overallMs / 3), overallMs });

/** The time bounds of calls to the app's dependencies that do not depend on settings. */
export const dependencyBounds = {
  ...boundsOf(30_000),
  /** Everything one HTTP request does with storage and Key Vault (the API answers 503 within 15 s). */
  requestMs: 10_000,
  /** One dependency's probe in the deep health check. */
  probeMs: 5_000,
};

/** The answer a client gets with a 503 from a dependency: try again after this many seconds. */
export const RETRY_AFTER_SECONDS = 5;
