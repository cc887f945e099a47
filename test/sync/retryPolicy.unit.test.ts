import { describe, expect, it } from 'vitest';
import { nextRetryDelay } from '../../src/sync/retryPolicy';

const policy = { delaysMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000], horizonMs: 24 * 3_600_000 };

describe('nextRetryDelay', () => {
  it('follows the schedule with +/-20 % jitter, then repeats the last step', () => {
    const at = (random: number, attempt: number) => nextRetryDelay({ ...policy, random: () => random }, attempt, 0, 0);
    expect(at(0, 1)).toBe(4_000);
    expect(at(0.999999, 1)).toBe(6_000);
    expect(at(0.5, 2)).toBe(30_000);
    expect(at(0.5, 6)).toBe(3_600_000);
    expect(at(0.5, 20)).toBe(3_600_000);
  });

  it('never retries sooner than Retry-After', () => {
    expect(nextRetryDelay({ ...policy, random: () => 0.5 }, 1, 0, 0, 90_000)).toBe(90_000);
  });

  it('gives up once the horizon since the first attempt would be passed', () => {
    const firstAttemptAt = 0;
    const now = 23.5 * 3_600_000;
    expect(nextRetryDelay({ ...policy, random: () => 0.5 }, 10, firstAttemptAt, now)).toBeUndefined();
    expect(nextRetryDelay({ ...policy, random: () => 0.5 }, 10, firstAttemptAt, 22 * 3_600_000)).toBe(3_600_000);
  });
});
