// Connector health rows: one partition ("health"), row key = connector id, so one instance's flush of many
// connectors is one transaction (TableBatcher). Updates are ETag-guarded: instances add their counts to what
// is there, never over it. A connection test merges its result alone, without a read.

import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { type HealthRecord, healthBucketSchema } from '../model/health';
import { redactAndTruncate } from '../platform/redact';
import {
  asDouble,
  deleteIfPresent,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  jsonColumn,
  optional,
  parseRow,
  queryAll,
  readEntity,
  storageFailure,
  type Table,
} from './table';
import type { TableBatcher } from './tableBatcher';

const PARTITION = 'health';

const rowSchema = z
  .object({
    buckets: jsonColumn(z.array(healthBucketSchema)).optional(),
    lastSuccessAt: optional(z.number()),
    lastFailureAt: optional(z.number()),
    lastFailureCode: optional(z.string()),
    lastFailureMessage: optional(z.string()),
    retrying: z.number().default(0),
    lastTestAt: optional(z.number()),
    lastTestOk: optional(z.boolean()),
    lastTestCode: optional(z.string()),
  })
  .transform(
    (r): HealthRecord => ({
      buckets: r.buckets ?? [],
      lastSuccessAt: r.lastSuccessAt,
      lastFailure:
        r.lastFailureAt !== null
          ? { at: r.lastFailureAt, code: r.lastFailureCode ?? '', message: r.lastFailureMessage ?? '' }
          : null,
      retrying: r.retrying,
      lastTest:
        r.lastTestAt !== null ? { at: r.lastTestAt, ok: r.lastTestOk ?? false, code: r.lastTestCode ?? '' } : null,
    }),
  );

const testColumns = (test: NonNullable<HealthRecord['lastTest']>) => ({
  lastTestAt: asDouble(test.at),
  lastTestOk: test.ok,
  lastTestCode: test.code,
});

function toEntity(connectorId: string, r: HealthRecord) {
  return {
    partitionKey: PARTITION,
    rowKey: connectorId,
    buckets: JSON.stringify(r.buckets),
    retrying: r.retrying,
    ...(r.lastSuccessAt !== null ? { lastSuccessAt: asDouble(r.lastSuccessAt) } : {}),
    ...(r.lastFailure
      ? {
          lastFailureAt: asDouble(r.lastFailure.at),
          lastFailureCode: r.lastFailure.code,
          lastFailureMessage: redactAndTruncate(r.lastFailure.message, 500),
        }
      : {}),
    ...(r.lastTest ? testColumns(r.lastTest) : {}),
  };
}

export type HealthWrite = { ok: true; etag: string } | { ok: false };

export interface HealthStore {
  read(connectorId: string): Promise<{ record: HealthRecord; etag: string } | undefined>;
  /** Every connector's row (one query of the partition, paged). */
  readAll(): Promise<Map<string, HealthRecord>>;
  /** Creates the row; { ok: false } when it exists. */
  create(connectorId: string, record: HealthRecord): Promise<HealthWrite>;
  /** Replaces the row read at `etag`; { ok: false } when it changed or went since. */
  replace(connectorId: string, record: HealthRecord, etag: string): Promise<HealthWrite>;
  /** Merges a connection test's result into the row (created when missing), whatever else it holds. */
  recordTest(connectorId: string, test: NonNullable<HealthRecord['lastTest']>): Promise<void>;
  remove(connectorId: string): Promise<void>;
}

export function createHealthStore(table: Table, writes: TableBatcher): HealthStore {
  const attempt = async (op: () => Promise<string | undefined>): Promise<HealthWrite> => {
    try {
      return { ok: true, etag: (await op()) ?? '' };
    } catch (error) {
      if (isConflict(error) || isPreconditionFailed(error) || isNotFound(error)) return { ok: false };
      return storageFailure('write connector health', error);
    }
  };
  return {
    async read(connectorId) {
      const entity = await readEntity(await table(), PARTITION, connectorId, 'connector health');
      return entity && { record: parseRow(rowSchema, entity, 'connector health row'), etag: entity.etag };
    },
    async readAll() {
      const rows = await queryAll(await table(), odata`PartitionKey eq ${PARTITION}`, 'connector health');
      return new Map(rows.map((row) => [String(row.rowKey), parseRow(rowSchema, row, 'connector health row')]));
    },
    create: (connectorId, record) =>
      attempt(() => writes.submit({ kind: 'create', entity: toEntity(connectorId, record) })),
    replace: (connectorId, record, etag) =>
      attempt(() => writes.submit({ kind: 'update', entity: toEntity(connectorId, record), etag, mode: 'Replace' })),
    async recordTest(connectorId, test) {
      try {
        await (await table()).upsertEntity(
          { partitionKey: PARTITION, rowKey: connectorId, ...testColumns(test) },
          'Merge',
        );
      } catch (error) {
        storageFailure('record a connection test', error);
      }
    },
    async remove(connectorId) {
      await deleteIfPresent(table, PARTITION, connectorId, 'remove connector health');
    },
  };
}
