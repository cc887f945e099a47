// When to try a transiently failed delivery again: the configured schedule (default 5 s, 30 s, 2 min, 10 min,
// 30 min, 1 h), then the last step repeated, with +/-20 % jitter, never sooner than the back office's
// Retry-After, until the horizon since the first attempt has passed.

export interface RetryPolicy {
  delaysMs: number[];
  horizonMs: number;
  random?: () => number;
}

/** Milliseconds to wait before attempt `attempt + 1`, or undefined when the horizon is reached. */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  firstAttemptAt: number,
  now: number,
  retryAfterMs?: number,
): number | undefined {
  const random = policy.random ?? Math.random;
  const base = policy.delaysMs[Math.min(attempt - 1, policy.delaysMs.length - 1)] ?? 0;
  const jittered = base * (0.8 + random() * 0.4);
  const delay = Math.round(Math.max(jittered, retryAfterMs ?? 0));
  return now + delay - firstAttemptAt > policy.horizonMs ? undefined : delay;
}
