// Gathers what waits for the same key (a connector) within one instance: a group goes when it is full or when
// the first member has waited `lingerMs`. Every member gets the group's result for itself.
export interface LaneOptions {
  maxItems: number;
}

interface Member<T> {
  value: T;
  resolve(): void;
  reject(error: unknown): void;
}

export class Lanes<T> {
  readonly #lanes = new Map<string, { members: Array<Member<T>>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly options: LaneOptions,
    private readonly send: (key: string, group: T[]) => Promise<void>,
  ) {}

  /**
   * Resolves when the group this value joined has been sent and settled. The first member of a group sets how
   * long it waits for company (0: the next turn of the event loop).
   */
  join(key: string, value: T, lingerMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let lane = this.#lanes.get(key);
      if (!lane) {
        lane = { members: [], timer: setTimeout(() => this.#go(key), lingerMs) };
        this.#lanes.set(key, lane);
      }
      lane.members.push({ value, resolve, reject });
      if (lane.members.length >= this.options.maxItems) this.#go(key);
    });
  }

  #go(key: string): void {
    const lane = this.#lanes.get(key);
    if (!lane) return;
    this.#lanes.delete(key);
    clearTimeout(lane.timer);
    this.send(
      key,
      lane.members.map((m) => m.value),
    ).then(
      () => {
        for (const m of lane.members) m.resolve();
      },
      (error: unknown) => {
        for (const m of lane.members) m.reject(error);
      },
    );
  }
}
