// Ordering state per (connector, appointment): PK = connector id, RK = appointment GUID (lower case).
// The claim logic lives in sync/syncState.ts; this store reads and writes the row, ETag-guarded.
import { z } from 'zod';
import {
  asDouble,
  isConflict,
  isPreconditionFailed,
  optional,
  parseRow,
  readEntity,
  storageFailure,
  type Table,
} from './table';
import type { TableBatcher } from './tableBatcher';

export const syncStateSchema = z.object({
  /** The last revision the back office accepted; null before the first. */
  lastDelivered: optional(z.number().int()),
  /** The revision being sent now; null when none. */
  inFlight: optional(z.number().int()),
  /** Until when the claim on inFlight holds (epoch ms); an instance that died lets go after this. */
  leaseUntil: z.number().default(0),
});
export type SyncStateRow = z.output<typeof syncStateSchema>;

export type WriteResult = { ok: true; etag: string } | { ok: false };

export interface SyncStateStore {
  read(connectorId: string, appointmentGuid: string): Promise<{ row: SyncStateRow; etag: string } | undefined>;
  /** Creates the row; { ok: false } when it exists already. */
  create(connectorId: string, appointmentGuid: string, row: SyncStateRow): Promise<WriteResult>;
  /** Replaces the row read at `etag`; { ok: false } when it changed since. */
  update(connectorId: string, appointmentGuid: string, row: SyncStateRow, etag: string): Promise<WriteResult>;
}

const toEntity = (connectorId: string, appointmentGuid: string, row: SyncStateRow) => ({
  partitionKey: connectorId,
  rowKey: appointmentGuid.toLowerCase(),
  ...(row.lastDelivered !== null ? { lastDelivered: asDouble(row.lastDelivered) } : {}),
  ...(row.inFlight !== null ? { inFlight: asDouble(row.inFlight) } : {}),
  leaseUntil: asDouble(row.leaseUntil),
});

export function createSyncStateStore(table: Table, writes: TableBatcher): SyncStateStore {
  const write = async (
    op: () => Promise<string | undefined>,
    refused: (e: unknown) => boolean,
  ): Promise<WriteResult> => {
    try {
      return { ok: true, etag: (await op()) ?? '' };
    } catch (error) {
      if (refused(error)) return { ok: false };
      return storageFailure('write the sync state', error);
    }
  };
  return {
    async read(connectorId, appointmentGuid) {
      const entity = await readEntity(await table(), connectorId, appointmentGuid.toLowerCase(), 'the sync state');
      return entity && { row: parseRow(syncStateSchema, entity, 'sync state'), etag: entity.etag };
    },
    create: (connectorId, appointmentGuid, row) =>
      write(() => writes.submit({ kind: 'create', entity: toEntity(connectorId, appointmentGuid, row) }), isConflict),
    update: (connectorId, appointmentGuid, row, etag) =>
      write(
        () => writes.submit({ kind: 'update', entity: toEntity(connectorId, appointmentGuid, row), etag }),
        (e) => isPreconditionFailed(e) || isConflict(e),
      ),
  };
}
