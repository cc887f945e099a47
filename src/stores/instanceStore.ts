// The instances that run now: each writes a row of its own every half minute (PK "instances", RK its id) and
// removes it when it stops, so deep health can list who shares the work. A row not renewed for 90 s is an
// instance that went away without saying so (a crash, a scale-in that could not finish).
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { asDouble, deleteIfPresent, parseRow, queryAll, storageFailure, type Table } from './table';

const PARTITION = 'instances';

export const instanceRowSchema = z.object({
  rowKey: z.string(),
  name: z.string(),
  version: z.string(),
  startedAt: z.number(),
  lastSeenAt: z.number(),
});

export interface LiveInstance {
  /** The id it holds budget slots under. */
  id: string;
  name: string;
  version: string;
  startedAt: string;
  lastSeenAt: string;
}

export interface InstanceStore {
  beat(id: string, row: { name: string; version: string; startedAt: number; at: number }): Promise<void>;
  remove(id: string): Promise<void>;
  /** The instances seen since `sinceMs`, oldest first. */
  seenSince(sinceMs: number): Promise<LiveInstance[]>;
}

export function createInstanceStore(table: Table): InstanceStore {
  return {
    async beat(id, row) {
      try {
        await (await table()).upsertEntity(
          {
            partitionKey: PARTITION,
            rowKey: id,
            name: row.name,
            version: row.version,
            startedAt: asDouble(row.startedAt),
            lastSeenAt: asDouble(row.at),
          },
          'Replace',
        );
      } catch (error) {
        storageFailure('record the instance', error);
      }
    },
    async remove(id) {
      await deleteIfPresent(table, PARTITION, id, 'remove the instance');
    },
    async seenSince(sinceMs) {
      // A handful of rows: filtered here rather than with a Double literal in the query.
      const rows = await queryAll(await table(), odata`PartitionKey eq ${PARTITION}`, 'instances');
      return rows
        .map((r) => parseRow(instanceRowSchema, r, 'instance'))
        .filter((r) => r.lastSeenAt >= sinceMs)
        .sort((a, b) => a.startedAt - b.startedAt)
        .map((r) => ({
          id: r.rowKey,
          name: r.name,
          version: r.version,
          startedAt: new Date(r.startedAt).toISOString(),
          lastSeenAt: new Date(r.lastSeenAt).toISOString(),
        }));
    },
  };
}
