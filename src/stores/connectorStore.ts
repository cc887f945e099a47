// Connectors in Table Storage, in one table:
// - the record:  PartitionKey = id, RowKey = "connector"          -> "connector by id" is one point read
// - the route:   PartitionKey = "app:" + source app key, RowKey = id -> "connectors of source app X" is one
//                partition query
// The record is the truth. A route only says "look at this connector"; the record is read to use it, so a
// route left behind by a failed write (an old source app) is recognised and ignored rather than misrouting.
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import {
  apiTypes,
  authTypes,
  backOffices,
  databaseActions,
  type StoredConnector,
  storedConnectorSchema,
} from '../model/connector';
import { sourceAppKey } from '../model/text';
import { NotFoundError, PreconditionFailedError } from '../platform/errors';
import type { Versioned } from '../platform/etag';
import {
  deleteIfPresent,
  type Entity,
  isNotFound,
  isPreconditionFailed,
  optional,
  parseRow,
  pingTable,
  queryAll,
  readEntity,
  storageFailure,
  type Table,
  withoutNulls,
} from './table';
import { type Page, readPage } from './tablePage';

const RECORD_ROW = 'connector';
const ROUTE_PREFIX = 'app:';
const routePartition = (sourceApp: string) => `${ROUTE_PREFIX}${sourceAppKey(sourceApp)}`;

/** The record as stored: the stored connector flattened (actions joined), plus its source app's key. */
const recordRowSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().default(''),
    sourceApp: z.string(),
    sourceType: optional(z.string()),
    backOffice: z.enum(backOffices),
    apiType: z.enum(apiTypes),
    sendAppointments: z.boolean(),
    databaseActions: z
      .string()
      .transform((s) => s.split(',').filter(Boolean))
      .pipe(z.array(z.enum(databaseActions))),
    webServiceUri: z.string(),
    authType: z.enum(authTypes),
    login: optional(z.string()),
    hasPassword: z.boolean(),
    secretExpiresAt: optional(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    secretName: optional(z.string()),
    secretVersion: optional(z.string()),
    revision: z.number().int().nonnegative(),
  })
  .pipe(storedConnectorSchema);

function toRecordEntity(c: StoredConnector): Entity {
  return {
    ...withoutNulls({ ...c, databaseActions: c.databaseActions.join(',') }),
    partitionKey: c.id,
    rowKey: RECORD_ROW,
    sourceAppKey: sourceAppKey(c.sourceApp),
  };
}

const fromRecordEntity = (entity: Record<string, unknown>) => parseRow(recordRowSchema, entity, 'connector');

export interface ConnectorStore {
  get(id: string): Promise<Versioned<StoredConnector> | undefined>;
  /** Inserts the record; rejects with 409 if the id exists. */
  insert(connector: StoredConnector): Promise<string>;
  /** Replaces the record when its ETag still matches ("*": unconditionally); 412 otherwise. */
  replace(connector: StoredConnector, etag: string): Promise<string>;
  deleteRecord(id: string, etag: string): Promise<void>;
  putRoute(sourceApp: string, id: string): Promise<void>;
  deleteRoute(sourceApp: string, id: string): Promise<void>;
  /** The records routed to a source app (case-insensitive): routes whose record moved elsewhere are left out. */
  routedTo(sourceApp: string): Promise<StoredConnector[]>;
  list(
    filter: { sourceApp?: string; backOffice?: StoredConnector['backOffice'] },
    page: { size: number; token?: string },
  ): Promise<Page<StoredConnector>>;
  ping(): Promise<void>;
}

export function createConnectorStore(table: Table): ConnectorStore {
  const preconditionOr = (operation: string, error: unknown): never => {
    if (isPreconditionFailed(error))
      throw new PreconditionFailedError('The connector has changed since it was read; GET it again and retry.');
    if (isNotFound(error)) throw new NotFoundError('The connector was deleted meanwhile.');
    return storageFailure(operation, error);
  };

  const get = async (id: string) => {
    const entity = await readEntity(await table(), id, RECORD_ROW, 'a connector');
    return entity && { value: fromRecordEntity(entity), etag: entity.etag };
  };

  return {
    get,
    async insert(connector) {
      try {
        return (await (await table()).createEntity(toRecordEntity(connector))).etag ?? '';
      } catch (error) {
        return storageFailure('insert a connector', error);
      }
    },
    async replace(connector, etag) {
      try {
        return (await (await table()).updateEntity(toRecordEntity(connector), 'Replace', { etag })).etag ?? '';
      } catch (error) {
        return preconditionOr('replace a connector', error);
      }
    },
    async deleteRecord(id, etag) {
      try {
        await (await table()).deleteEntity(id, RECORD_ROW, { etag });
      } catch (error) {
        if (isNotFound(error)) return;
        preconditionOr('delete a connector', error);
      }
    },
    async putRoute(sourceApp, id) {
      try {
        await (await table()).upsertEntity(
          { partitionKey: routePartition(sourceApp), rowKey: id, sourceApp },
          'Replace',
        );
      } catch (error) {
        storageFailure('write a route', error);
      }
    },
    async deleteRoute(sourceApp, id) {
      await deleteIfPresent(table, routePartition(sourceApp), id, 'delete a route');
    },
    async routedTo(sourceApp) {
      const key = sourceAppKey(sourceApp);
      const routes = await queryAll(await table(), odata`PartitionKey eq ${routePartition(sourceApp)}`, 'routes', [
        'RowKey',
      ]);
      const records = await Promise.all(routes.map((r) => get(String(r.rowKey))));
      return records.flatMap((r) => (r && sourceAppKey(r.value.sourceApp) === key ? [r.value] : []));
    },
    async list(filter, page) {
      const clauses = [odata`RowKey eq ${RECORD_ROW}`];
      if (filter.sourceApp) clauses.push(odata`sourceAppKey eq ${sourceAppKey(filter.sourceApp)}`);
      if (filter.backOffice) clauses.push(odata`backOffice eq ${filter.backOffice}`);
      return readPage(await table(), clauses.join(' and '), page, fromRecordEntity, 'connectors');
    },
    ping: () => pingTable(table, 'connectors'),
  };
}
