// The latest revision of every appointment, per source app: PK = source app key, RK = appointment GUID. The
// sync writes it for every change ("newer wins", ETag-guarded, so concurrent instances cannot regress it); a
// resync reads it to send a back office everything that exists. A deleted appointment stays, marked deleted.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { type AppointmentChange, appointmentChangeSchema } from '../model/appointmentChange';
import { caseKey, sourceAppKey } from '../model/text';
import {
  asDouble,
  binaryText,
  isConflict,
  isPreconditionFailed,
  jsonColumn,
  optional,
  parseRow,
  readEntity,
  storageFailure,
  type Table,
  textAsBinary,
} from './table';
import type { TableBatcher } from './tableBatcher';
import type { Page } from './tablePage';

const rowSchema = z.object({
  revision: z.number().int(),
  deleted: z.boolean(),
  sourceType: optional(z.string()),
  occurredAt: z.string(),
  change: binaryText.pipe(jsonColumn(appointmentChangeSchema)),
});

const revisionOnly = z.object({ revision: z.number().int() });

export type Remembered = 'new' | 'newer' | 'not-newer';

export interface LatestRevisionStore {
  /** Keeps the change if it is newer than what is known of its appointment. */
  remember(change: AppointmentChange): Promise<Remembered>;
  /** A page of the latest changes of a source app, optionally of one source type and changed since a time. */
  page(
    sourceApp: string,
    filter: { sourceType: string | null; since?: Date },
    page: { size: number; token?: string },
  ): Promise<Page<AppointmentChange>>;
  /** How many appointments of a source app are known and not deleted (up to `cap`). */
  countLive(sourceApp: string, cap: number): Promise<number>;
}

const utc = (iso: string) => new Date(iso).toISOString();

export function createLatestRevisionStore(table: Table, writes: TableBatcher): LatestRevisionStore {
  const entityOf = (change: AppointmentChange) => {
    const change_ = textAsBinary(JSON.stringify(change));
    if (!change_) return undefined; // cannot be larger than a queue message, so never in practice
    return {
      partitionKey: sourceAppKey(change.appointment.sourceApp),
      rowKey: change.appointment.appointmentGuid,
      revision: asDouble(change.revision),
      deleted: change.databaseAction === 'D',
      ...(change.appointment.sourceType ? { sourceType: caseKey(change.appointment.sourceType) } : {}),
      occurredAt: utc(change.occurredAt),
      change: change_,
    };
  };

  return {
    async remember(change) {
      const entity = entityOf(change);
      if (!entity) return 'not-newer';
      try {
        for (let round = 0; ; round++) {
          try {
            await writes.submit({ kind: 'create', entity });
            return 'new';
          } catch (error) {
            if (!isConflict(error)) throw error;
          }
          const known = await readEntity(await table(), entity.partitionKey, entity.rowKey, 'a latest revision');
          if (!known) continue; // deleted between the two calls: create again
          const { revision } = parseRow(revisionOnly, known, 'latest revision');
          if (revision >= change.revision) return 'not-newer';
          try {
            await writes.submit({ kind: 'update', entity, etag: known.etag });
            return 'newer';
          } catch (error) {
            if (!isPreconditionFailed(error) || round >= 20) throw error;
          }
        }
      } catch (error) {
        return storageFailure('remember the latest revision', error);
      }
    },
    async page(sourceApp, filter, page) {
      const clauses = [odata`PartitionKey eq ${sourceAppKey(sourceApp)}`];
      if (filter.sourceType) clauses.push(odata`sourceType eq ${caseKey(filter.sourceType)}`);
      if (filter.since) clauses.push(odata`occurredAt ge ${filter.since.toISOString()}`);
      try {
        const result = await (await table())
          .listEntities<Record<string, unknown>>({ queryOptions: { filter: clauses.join(' and ') } })
          .byPage({ maxPageSize: page.size, continuationToken: page.token })
          .next();
        const entities = result.done ? [] : result.value;
        return {
          items: entities.map((e) => parseRow(rowSchema, e, 'latest revision').change),
          continuationToken: (entities as { continuationToken?: string }).continuationToken ?? null,
        };
      } catch (error) {
        return storageFailure('read the latest revisions', error);
      }
    },
    async countLive(sourceApp, cap) {
      let count = 0;
      try {
        const query = (await table()).listEntities({
          queryOptions: {
            filter: `${odata`PartitionKey eq ${sourceAppKey(sourceApp)}`} and deleted eq false`,
            select: ['RowKey'],
          },
        });
        for await (const page of query.byPage({ maxPageSize: 1000 })) {
          count += page.length;
          if (count >= cap) return cap;
        }
      } catch (error) {
        storageFailure('count the known appointments', error);
      }
      return count;
    },
  };
}
