// Bounded concurrency per key (a connector): Business Central processes 5 requests per user at once.
// A finishing task hands its slot straight to the next waiter, so the bound holds at every instant.
export class KeyedLimiter {
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limit: number) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const active = this.#active.get(key) ?? 0;
    if (active >= this.limit) {
      await new Promise<void>((resolve) => {
        const queue = this.#waiting.get(key) ?? [];
        queue.push(resolve);
        this.#waiting.set(key, queue);
      });
    } else {
      this.#active.set(key, active + 1);
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.get(key)?.shift();
      if (next) next();
      else {
        const left = (this.#active.get(key) ?? 1) - 1;
        if (left === 0) {
          this.#active.delete(key);
          this.#waiting.delete(key);
        } else this.#active.set(key, left);
      }
    }
  }

  active(key: string): number {
    return this.#active.get(key) ?? 0;
  }
}
