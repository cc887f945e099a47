// Row keys that sort newest first, and paging over them with an opaque cursor: what the delivery log and the
// audit trail share. A row key is "<inverted time>~<id>"; inverted so Table Storage's ascending key order is
// newest first, padded so it compares as text.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { ValidationError } from '../platform/errors';
import { storageFailure, type Table } from './table';

const INVERT = 9_999_999_999_999;

export const invertedTime = (ms: number) => String(INVERT - ms).padStart(13, '0');
export const timeOfKey = (rowKey: string) => INVERT - Number(rowKey.slice(0, 13));
export const newestFirstKey = (ms: number, id: string) => `${invertedTime(ms)}~${id}`;

/** Key-range clauses for "first recorded at or after `from`" and "before `to`". */
export function timeRange(range: { from?: Date; to?: Date }): string[] {
  const clauses: string[] = [];
  if (range.to) clauses.push(odata`RowKey ge ${invertedTime(range.to.getTime() - 1)}`);
  if (range.from) clauses.push(odata`RowKey lt ${`${invertedTime(range.from.getTime())}\u007f`}`);
  return clauses;
}

const cursorSchema = z.object({ after: z.string().max(200) });

export const encodeCursor = (rowKey: string) => Buffer.from(JSON.stringify({ after: rowKey })).toString('base64url');

/** The row key a page continues after ('' for the first page); a token that is not ours is a 400. */
export function decodeCursor(token: string | undefined): string {
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
}

/** Up to `limit` rows of one partition matching the clauses, in key order. */
export async function firstRows(
  table: Table,
  partition: string,
  clauses: string[],
  limit: number,
  what: string,
): Promise<Array<Record<string, unknown>>> {
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
    storageFailure(`list ${what}`, error);
  }
  return rows.slice(0, limit);
}

/** A page from rows gathered with one more than asked: the token continues after the last row shown. */
export function pageOf<T>(rows: Array<{ rowKey: string; value: T }>, size: number) {
  const items = rows.slice(0, size);
  return {
    items: items.map((r) => r.value),
    continuationToken: rows.length > size ? encodeCursor(items.at(-1)!.rowKey) : null,
  };
}
