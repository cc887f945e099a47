// A clock the test moves: `advance` runs every timer that falls due, in order, letting the promises each one
// starts settle before the next (the unit layer's stand-in for waiting).
import type { Clock } from '../../src/platform/clock';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  every?: number;
}

/** Lets pending promise callbacks (and the I/O of in-memory fakes) run. */
export const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
};

export class ManualClock implements Clock {
  #t: number;
  #seq = 0;
  readonly #timers = new Set<Timer>();

  constructor(start = 1_800_000_000_000) {
    this.#t = start;
  }

  now = () => this.#t;

  sleep = (ms: number) => new Promise<void>((resolve) => this.after(ms, resolve));

  after = (ms: number, fn: () => void) => {
    const timer = { at: this.#t + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  };

  every = (ms: number, fn: () => void) => {
    const timer = { at: this.#t + ms, seq: this.#seq++, fn, every: ms };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  };

  /** Timers waiting to run. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time on by `ms`, running what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.#t + ms;
    await settle();
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#t = Math.max(this.#t, due.at);
      if (due.every) due.at += due.every;
      else this.#timers.delete(due);
      due.fn();
      await settle();
    }
    this.#t = end;
    await settle();
  }
}
