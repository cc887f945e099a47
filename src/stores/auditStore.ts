// The audit trail in Table Storage. Each entry is written three times, so every filter is a partition query
// returning the newest first (entries are few: configuration changes, tests, replays):
//   PK "r~<resource type>~<resource id>" (one resource's history), "a~<actor key>" (one caller's actions),
//   "t~<yyyy-mm>" (everything, by month); RK "<inverted time>~<id>".
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { type AuditEntry, actorKey, auditEntrySchema } from '../model/audit';
import { decodeCursor, firstRows, newestFirstKey, pageOf, timeOfKey, timeRange } from './newestFirst';
import { type Entity, jsonColumn, parseRow, queryAll, storageFailure, type Table } from './table';
import type { TableBatcher } from './tableBatcher';
import type { Page } from './tablePage';

export interface AuditFilter {
  resourceType?: AuditEntry['resourceType'];
  resourceId?: string;
  actor?: string;
  from?: Date;
  to?: Date;
}

const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
const previousMonth = (m: string) => {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return mo === 1 ? `${y - 1}-12` : `${y}-${String(mo - 1).padStart(2, '0')}`;
};

const rowSchema = z.object({ entry: jsonColumn(auditEntrySchema) }).transform((r) => r.entry);

export interface AuditStore {
  append(entry: AuditEntry): Promise<void>;
  list(filter: AuditFilter, page: { size: number; token?: string }, oldestMs: number): Promise<Page<AuditEntry>>;
  purgeBefore(cutoffMs: number): Promise<number>;
}

export function createAuditStore(table: Table, writes: TableBatcher): AuditStore {
  const rowsOf = (partition: string, clauses: string[], limit: number) =>
    firstRows(table, partition, clauses, limit, 'the audit trail');

  return {
    async append(entry) {
      const at = Date.parse(entry.at);
      const common = {
        rowKey: newestFirstKey(at, entry.id),
        entry: JSON.stringify(entry),
        resourceType: entry.resourceType,
        resourceId: entry.resourceId,
        actor: actorKey(entry.actor),
      };
      const partitions = [`r~${entry.resourceType}~${entry.resourceId}`, `a~${common.actor}`, `t~${month(at)}`];
      try {
        await Promise.all(
          partitions.map((partitionKey) =>
            writes.submit({ kind: 'upsert', entity: { ...common, partitionKey } as Entity }),
          ),
        );
      } catch (error) {
        storageFailure('write the audit trail', error);
      }
    },
    async list(filter, page, oldestMs) {
      const after = decodeCursor(page.token);
      const clauses = [odata`RowKey gt ${after}`, ...timeRange(filter)];
      const want = page.size + 1;
      const narrow = [
        ...(filter.resourceType ? [odata`resourceType eq ${filter.resourceType}`] : []),
        ...(filter.resourceId ? [odata`resourceId eq ${filter.resourceId}`] : []),
        ...(filter.actor ? [odata`actor eq ${filter.actor}`] : []),
      ];
      let rows: Array<Record<string, unknown>>;
      if (filter.resourceId && filter.resourceType)
        rows = await rowsOf(`r~${filter.resourceType}~${filter.resourceId}`, [...clauses, ...narrow], want);
      else if (filter.actor) rows = await rowsOf(`a~${filter.actor}`, [...clauses, ...narrow], want);
      else {
        // Month by month, from the cursor's (or `to`'s) month back to the oldest kept.
        rows = [];
        const startMs = after ? timeOfKey(after) : (filter.to?.getTime() ?? Date.now());
        const stopMonth = month(Math.max(oldestMs, filter.from?.getTime() ?? oldestMs));
        for (let m = month(startMs); m >= stopMonth && rows.length < want; m = previousMonth(m))
          rows.push(...(await rowsOf(`t~${m}`, [...clauses, ...narrow], want - rows.length)));
      }
      return pageOf(
        rows.map((e) => ({ rowKey: String(e.rowKey), value: parseRow(rowSchema, e, 'audit entry') })),
        page.size,
      );
    },
    async purgeBefore(cutoffMs) {
      const client = await table();
      const old = await queryAll(client, timeRange({ to: new Date(cutoffMs) }).join(' and '), 'old audit entries', [
        'PartitionKey',
        'RowKey',
      ]);
      await Promise.all(
        old.map((e) =>
          writes.submit({ kind: 'delete', partitionKey: String(e.partitionKey), rowKey: String(e.rowKey) }),
        ),
      ).catch((error) => storageFailure('purge the audit trail', error));
      return old.length / 3;
    },
  };
}
