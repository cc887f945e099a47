import { describe, expect, it } from 'vitest';
import { KeyedLimiter } from '../../src/sync/limiter';

describe('KeyedLimiter', () => {
  it('keeps at most N tasks per key running and lets other keys through', async () => {
    const limiter = new KeyedLimiter(5);
    let running = 0;
    let peak = 0;
    let otherStarted = false;
    const task = () =>
      limiter.run('bc', async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
      });
    const all = Array.from({ length: 40 }, task);
    await limiter.run('other', async () => {
      otherStarted = true;
    });
    await Promise.all(all);
    expect(peak).toBe(5);
    expect(otherStarted).toBe(true);
    expect(limiter.active('bc')).toBe(0);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new KeyedLimiter(1);
    await expect(limiter.run('k', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await limiter.run('k', async () => 'next')).toBe('next');
  });
});
