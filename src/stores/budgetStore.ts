// The request budget of each principal, shared by every instance: one row per principal, ETag-guarded.
// PK "p~<hash of the principal>", RK "budget". The arithmetic is sync/budgetMath.ts.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  isConflict,
  isPreconditionFailed,
  jsonColumn,
  parseRow,
  readEntity,
  storageFailure,
  type Table,
} from './table';

export const budgetStateSchema = z.object({
  /** Instances holding request slots, until their lease runs out. */
  holders: z.array(z.object({ id: z.string(), slots: z.number().int().nonnegative(), until: z.number() })),
  /** Requests counted (reserved) per time bucket of the window. */
  buckets: z.array(z.object({ start: z.number(), count: z.number().int().nonnegative() })),
  /** Instances that asked and got nothing, until when: holders give back down to a fair share. */
  waiting: z.array(z.object({ id: z.string(), until: z.number() })),
  /** After a 429: no new requests until. */
  coolUntil: z.number(),
  /** After a 429: a lower concurrency, until. */
  reducedLimit: z.number().int().positive().nullable(),
  reducedUntil: z.number(),
});
export type BudgetState = z.output<typeof budgetStateSchema>;

export const emptyBudget = (): BudgetState => ({
  holders: [],
  buckets: [],
  waiting: [],
  coolUntil: 0,
  reducedLimit: null,
  reducedUntil: 0,
});

const rowSchema = z.object({ state: jsonColumn(budgetStateSchema) }).transform((r) => r.state);

export interface BudgetStore {
  read(principal: string): Promise<{ state: BudgetState; etag: string | undefined }>;
  /** Writes the state read at `etag` (undefined: the row did not exist); false when someone wrote first. */
  write(principal: string, state: BudgetState, etag: string | undefined): Promise<boolean>;
}

const partitionOf = (principal: string) => `p~${createHash('sha256').update(principal).digest('hex').slice(0, 40)}`;

export function createBudgetStore(table: Table): BudgetStore {
  return {
    async read(principal) {
      const entity = await readEntity(await table(), partitionOf(principal), 'budget', "a principal's budget");
      return entity
        ? { state: parseRow(rowSchema, entity, 'budget'), etag: entity.etag }
        : { state: emptyBudget(), etag: undefined };
    },
    async write(principal, state, etag) {
      const entity = { partitionKey: partitionOf(principal), rowKey: 'budget', state: JSON.stringify(state) };
      const client = await table();
      try {
        if (etag) await client.updateEntity(entity, 'Replace', { etag });
        else await client.createEntity(entity);
        return true;
      } catch (error) {
        if (isConflict(error) || isPreconditionFailed(error)) return false;
        return storageFailure("write a principal's budget", error);
      }
    },
  };
}
