// How a failure before the back office answers (credentials, token, connection) travels to the outcome.

import type { Diagnosis } from '../model/diagnosis';
import type { Outcome } from '../model/outcome';

export type StageOutcome = Omit<Outcome, 'durationMs'>;

/** A failure at a named stage of talking to a back office; becomes that stage's outcome. */
export class StageError extends Error {
  override readonly name = 'StageError';
  constructor(
    readonly stage: Diagnosis['stage'],
    readonly outcome: StageOutcome,
  ) {
    super(outcome.message);
  }
}

/** A token could not be had; the stage is "token". */
export class TokenError extends StageError {
  constructor(outcome: StageOutcome) {
    super('token', outcome);
  }
}
