// What every store shares: rows parsed by the schema that wrote them, storage failures as typed errors,
// and a small vocabulary for Table Storage's status codes.
import type { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { AppError, DependencyError, statusCodeOf } from '../platform/errors';

export type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };
export type Table = () => Promise<TableClient>;

/** A row that does not match the schema that wrote it: a bug or a hand edit, never silently used. */
export class StoredDataError extends AppError {
  readonly status = 500;
  readonly code = 'stored-data-invalid';
  readonly title = 'Stored data is not valid';
}

/** Parses a stored entity; the error names the table, the keys and the fields, never the values. */
export function parseRow<S extends z.ZodType>(schema: S, entity: Record<string, unknown>, what: string): z.output<S> {
  const result = schema.safeParse(entity);
  if (result.success) return result.data;
  const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || '(row)'))].join(', ');
  throw new StoredDataError(
    `A stored ${what} (${String(entity.partitionKey)}/${String(entity.rowKey)}) does not match its schema: ${fields}.`,
  );
}

/** Table Storage has no null: a property left out reads back as undefined. */
export const optional = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((v) => (v === undefined ? null : v)) as unknown as z.ZodType<z.output<T> | null, unknown>;

/** A stored JSON text column, parsed with its own schema. */
export const jsonColumn = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** Drops the nulls: Table Storage has no null, so a missing property is how null is stored. */
export function withoutNulls<T extends Record<string, unknown>>(row: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (value !== null && value !== undefined) out[key] = value;
  return out;
}

/**
 * A number stored as a Double: whole numbers above 2^31 must not become Int64, which reads back as a bigint.
 */
export const asDouble = (value: number) => ({ value: String(value), type: 'Double' as const });

export function storageFailure(operation: string, error: unknown): never {
  throw new DependencyError(`Table storage failed to ${operation}.`, 'storage-unavailable', { cause: error });
}

export const isConflict = (error: unknown) => statusCodeOf(error) === 409;
export const isPreconditionFailed = (error: unknown) => statusCodeOf(error) === 412;
export const isNotFound = (error: unknown) => statusCodeOf(error) === 404;

/** Deletes one entity; one that is already gone is what was wanted. */
export async function deleteIfPresent(table: Table, partitionKey: string, rowKey: string, operation: string) {
  try {
    await (await table()).deleteEntity(partitionKey, rowKey);
  } catch (error) {
    if (!isNotFound(error)) storageFailure(operation, error);
  }
}

/** Reads one entity; undefined when it does not exist. */
export async function readEntity(
  client: TableClient,
  partitionKey: string,
  rowKey: string,
  what: string,
): Promise<(Record<string, unknown> & { etag: string }) | undefined> {
  try {
    const entity = await client.getEntity<Record<string, unknown>>(partitionKey, rowKey);
    return entity as Record<string, unknown> & { etag: string };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    return storageFailure(`read ${what}`, error);
  }
}

/** Every entity a filter matches, in key order. */
export async function queryAll(client: TableClient, filter: string, what: string, select?: string[]) {
  const rows: Array<Record<string, unknown>> = [];
  try {
    for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select } }))
      rows.push(entity);
  } catch (error) {
    storageFailure(`list ${what}`, error);
  }
  return rows;
}

/** Binary properties hold at most 64 KiB. */
const MAX_BINARY_BYTES = 64 * 1024;

/** Text kept as a Binary property (64 KiB of UTF-8, twice what a string property holds); undefined if larger. */
export function textAsBinary(text: string): Uint8Array | undefined {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= MAX_BINARY_BYTES ? new Uint8Array(bytes) : undefined;
}

/** A text column written by textAsBinary (or, by older versions, as a string). */
export const binaryText = z.union([
  z.string(),
  z.instanceof(Uint8Array).transform((bytes) => Buffer.from(bytes).toString('utf8')),
]);

/** A cheap authenticated round trip, for the deep health check. */
export async function pingTable(table: Table, what: string): Promise<void> {
  try {
    await (await table())
      .listEntities({ queryOptions: { select: ['PartitionKey'] } })
      .byPage({ maxPageSize: 1 })
      .next();
  } catch (error) {
    storageFailure(`reach the ${what} table`, error);
  }
}
