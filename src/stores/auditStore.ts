// The audit trail in Table Storage. Each entry is written three times, so every filter is a partition query
// returning the newest first (entries are few: configuration changes, tests, replays):
//   PK "r~<resource type>~<resource id>" (one resource's history), "a~<actor key>" (one caller's actions),
//   "t~<yyyy-mm>" (everything, by month); RK "<inverted time>~<id>".
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { type AuditEntry, auditEntrySchema } from '../model/audit';
import { ValidationError } from '../platform/errors';
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

const INVERT = 9_999_999_999_999;
const inverted = (ms: number) => String(INVERT - ms).padStart(13, '0');
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
const previousMonth = (m: string) => {
  const [y, mo] = m.split('-').map(Number) as [number, number];
  return mo === 1 ? `${y - 1}-12` : `${y}-${String(mo - 1).padStart(2, '0')}`;
};

const rowSchema = z.object({ entry: jsonColumn(auditEntrySchema) }).transform((r) => r.entry);
const cursorSchema = z.object({ after: z.string().max(200) });

export interface AuditStore {
  append(entry: AuditEntry): Promise<void>;
  list(filter: AuditFilter, page: { size: number; token?: string }, oldestMs: number): Promise<Page<AuditEntry>>;
  purgeBefore(cutoffMs: number): Promise<number>;
}

export function createAuditStore(table: Table, writes: TableBatcher): AuditStore {
  const decodeCursor = (token?: string) => {
    if (!token) return '';
    try {
      return cursorSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))).after;
    } catch {
      throw new ValidationError('The continuation token is not valid.', [
        {
          path: 'query.continuationToken',
          code: 'invalid',
          message: 'must be a token returned by a previous page, unchanged',
        },
      ]);
    }
  };

  async function rowsOf(partition: string, clauses: string[], limit: number) {
    const client = await table();
    const filter = [odata`PartitionKey eq ${partition}`, ...clauses].join(' and ');
    const rows: Array<Record<string, unknown>> = [];
    try {
      for await (const page of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({
        maxPageSize: limit,
      })) {
        rows.push(...page);
        if (rows.length >= limit) break;
      }
    } catch (error) {
      storageFailure('list the audit trail', error);
    }
    return rows.slice(0, limit);
  }

  return {
    async append(entry) {
      const at = Date.parse(entry.at);
      const rowKey = `${inverted(at)}~${entry.id}`;
      const common = {
        rowKey,
        entry: JSON.stringify(entry),
        resourceType: entry.resourceType,
        resourceId: entry.resourceId,
        actor: entry.actor.objectId ?? entry.actor.appId ?? 'local',
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
      const clauses = [odata`RowKey gt ${after}`];
      if (filter.to) clauses.push(odata`RowKey ge ${inverted(filter.to.getTime() - 1)}`);
      if (filter.from) clauses.push(odata`RowKey lt ${`${inverted(filter.from.getTime())}\u007f`}`);
      const want = page.size + 1;
      let rows: Array<Record<string, unknown>>;
      if (filter.resourceId && filter.resourceType) {
        const actor = filter.actor ? [odata`actor eq ${filter.actor}`] : [];
        rows = await rowsOf(`r~${filter.resourceType}~${filter.resourceId}`, [...clauses, ...actor], want);
      } else {
        const narrow = [
          ...(filter.resourceType ? [odata`resourceType eq ${filter.resourceType}`] : []),
          ...(filter.resourceId ? [odata`resourceId eq ${filter.resourceId}`] : []),
        ];
        if (filter.actor) rows = await rowsOf(`a~${filter.actor}`, [...clauses, ...narrow], want);
        else {
          // Month by month, from the cursor's (or `to`'s) month back to the oldest kept.
          rows = [];
          const startMs = after ? INVERT - Number(after.slice(0, 13)) : (filter.to?.getTime() ?? Date.now());
          const stopMonth = month(Math.max(oldestMs, filter.from?.getTime() ?? oldestMs));
          for (let m = month(startMs); m >= stopMonth && rows.length < want; m = previousMonth(m))
            rows.push(...(await rowsOf(`t~${m}`, [...clauses, ...narrow], want - rows.length)));
        }
      }
      const items = rows.slice(0, page.size);
      return {
        items: items.map((e) => parseRow(rowSchema, e, 'audit entry')),
        continuationToken:
          rows.length > page.size
            ? Buffer.from(JSON.stringify({ after: String(items.at(-1)!.rowKey) })).toString('base64url')
            : null,
      };
    },
    async purgeBefore(cutoffMs) {
      const client = await table();
      const old = await queryAll(client, odata`RowKey ge ${inverted(cutoffMs - 1)}`, 'old audit entries', [
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
