/** One code of the catalogue (codes.ts): what it means, and what to do about it. */
export interface CodeEntry {
  meaning: string;
  /** What to do about it, in a sentence an operator can act on ("nothing: retried" when nothing is needed). */
  help: string;
}
