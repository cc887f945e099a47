// Recoveries in Table Storage, one partition each (PK = recovery id):
//   header  RK "~header": what was asked, by whom, and how many pages of the source were queued (ETag-guarded)
//   marker  RK <delivery id>: "queued" when the recovery queued that change, then the status it settled with
// and, per connector, which recovery is its active one: PK "connector~<connector id>", RK "active".
// Markers are written idempotently (a redelivered page or settlement writes the same row), so counting them
// is a progress that survives crashes and duplicates; a page's markers go in entity group transactions.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import type { DeliveryStatus } from '../model/delivery';
import { deliveryStatuses } from '../model/delivery';
import { type RecoveryHeader, recoveryHeaderSchema } from '../model/recovery';
import {
  isConflict,
  isPreconditionFailed,
  jsonColumn,
  parseRow,
  queryAll,
  readEntity,
  storageFailure,
  type Table,
} from './table';
import type { TableBatcher } from './tableBatcher';

const HEADER = '~header';
const activePartition = (connectorId: string) => `connector~${connectorId}`;
const ACTIVE = 'active';
const activeRow = z.object({ recoveryId: z.string() });
const headerRow = z.object({ header: jsonColumn(recoveryHeaderSchema) }).transform((r) => r.header);
const markerRow = z.object({ status: z.enum(['queued', ...deliveryStatuses]) });

export type MarkerStatus = z.output<typeof markerRow>['status'];

export interface RecoveryStore {
  create(header: RecoveryHeader): Promise<void>;
  /** Removes a recovery that never started. */
  remove(id: string): Promise<void>;
  get(id: string): Promise<RecoveryHeader | undefined>;
  /** Records that `page` queued `count` changes (and whether it was the last); false when another copy did first. */
  pageDone(
    id: string,
    page: { page: number; count: number; last: boolean },
    at: string,
  ): Promise<RecoveryHeader | undefined>;
  /** Marks the changes a page queued; before they are queued, so a quick settlement is never overwritten. */
  markQueued(id: string, deliveryIds: string[]): Promise<void>;
  markSettled(id: string, deliveryId: string, status: DeliveryStatus): Promise<void>;
  /** How many markers are in each status. */
  tally(id: string): Promise<Partial<Record<MarkerStatus, number>>>;
  /** The recovery last made the connector's active one, with the row's ETag. */
  activeOf(connectorId: string): Promise<{ recoveryId: string; etag: string } | undefined>;
  /** Makes a recovery the connector's active one, if the row is still as read (`etag`; none: no row); else false. */
  setActive(connectorId: string, recoveryId: string, etag: string | undefined): Promise<boolean>;
}

export function createRecoveryStore(table: Table, writes: TableBatcher): RecoveryStore {
  const read = async (id: string) => {
    const entity = await readEntity(await table(), id, HEADER, 'a recovery');
    return entity && { header: parseRow(headerRow, entity, 'recovery'), etag: entity.etag };
  };
  const entityOf = (header: RecoveryHeader) => ({
    partitionKey: header.id,
    rowKey: HEADER,
    header: JSON.stringify(header),
  });
  const marker = (id: string, deliveryId: string, status: MarkerStatus) =>
    writes.submit({ kind: 'upsert', entity: { partitionKey: id, rowKey: deliveryId, status } });

  return {
    async create(header) {
      try {
        await writes.submit({ kind: 'create', entity: entityOf(header) });
      } catch (error) {
        storageFailure('record a recovery', error);
      }
    },
    async remove(id) {
      try {
        await writes.submit({ kind: 'delete', partitionKey: id, rowKey: HEADER });
      } catch (error) {
        storageFailure('remove a recovery', error);
      }
    },
    async get(id) {
      return (await read(id))?.header;
    },
    async pageDone(id, { page, count, last }, at) {
      try {
        for (let round = 0; round < 10; round++) {
          const found = await read(id);
          if (!found || found.header.pagesDone > page) return undefined;
          const header: RecoveryHeader = {
            ...found.header,
            pagesDone: page + 1,
            queued: found.header.queued + count,
            scanComplete: last,
            completedScanAt: last ? at : null,
          };
          try {
            await writes.submit({ kind: 'update', entity: entityOf(header), etag: found.etag });
            return header;
          } catch (error) {
            if (!isPreconditionFailed(error)) throw error;
          }
        }
        return undefined;
      } catch (error) {
        return storageFailure('record the progress of a recovery', error);
      }
    },
    async markQueued(id, deliveryIds) {
      try {
        await Promise.all(deliveryIds.map((d) => marker(id, d, 'queued')));
      } catch (error) {
        storageFailure('mark the changes of a recovery', error);
      }
    },
    async markSettled(id, deliveryId, status) {
      try {
        await marker(id, deliveryId, status);
      } catch (error) {
        storageFailure('mark a change of a recovery', error);
      }
    },
    async activeOf(connectorId) {
      const entity = await readEntity(await table(), activePartition(connectorId), ACTIVE, 'an active recovery');
      return entity && { recoveryId: parseRow(activeRow, entity, 'active recovery').recoveryId, etag: entity.etag };
    },
    async setActive(connectorId, recoveryId, etag) {
      const entity = { partitionKey: activePartition(connectorId), rowKey: ACTIVE, recoveryId };
      try {
        await writes.submit(etag ? { kind: 'update', entity, etag } : { kind: 'create', entity });
        return true;
      } catch (error) {
        if (isPreconditionFailed(error) || isConflict(error)) return false;
        return storageFailure('record the active recovery', error);
      }
    },
    async tally(id) {
      const rows = await queryAll(
        await table(),
        `${odata`PartitionKey eq ${id}`} and ${odata`RowKey ne ${HEADER}`}`,
        'the changes of a recovery',
        ['status'],
      );
      const counts: Partial<Record<MarkerStatus, number>> = {};
      for (const row of rows) {
        const { status } = parseRow(markerRow, row, 'recovery marker');
        counts[status] = (counts[status] ?? 0) + 1;
      }
      return counts;
    },
  };
}
