// Gathers what waits for the same key (a connector) within one instance: a group goes when it is full or when
// its first member has waited `lingerMs`. Every member gets the group's answer and takes its own part of it.
export interface LaneOptions {
  maxItems: number;
}

interface Member<T, R> {
  value: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export class Lanes<T, R> {
  readonly #lanes = new Map<string, { members: Array<Member<T, R>>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly options: LaneOptions,
    private readonly send: (key: string, group: T[]) => Promise<R>,
  ) {}

  /**
   * Resolves with the answer for the group this value joined, once it has been sent. The first member of a
   * group sets how long it waits for company (0: the next turn of the event loop).
   */
  join(key: string, value: T, lingerMs: number): Promise<R> {
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
      (result) => {
        for (const m of lane.members) m.resolve(result);
      },
      (error: unknown) => {
        for (const m of lane.members) m.reject(error);
      },
    );
  }
}
