// Connectors in Table Storage, two entities per connector in one table:
// - the record:  PartitionKey = id, RowKey = "connector"       -> "connector by id" is one point read
// - the route:   PartitionKey = "app:" + source app key, RowKey = id (a full copy)
//                                                               -> "connectors of source app X" is one partition query
// The record is the truth and carries the ETag; the route copy is what the sync and lists read.
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { DependencyError, NotFoundError, PreconditionFailedError, statusCodeOf } from '../platform/errors';
import { type Page, readPage } from '../platform/tablePage';
import type { AuthType, BackOffice, Connector, DatabaseAction } from './model';
import { normaliseSourceApp } from './model';

export interface StoredConnector extends Connector {
  secretName: string | null;
  secretVersion: string | null;
  /** Increases with every save; the route copy carries the record's value. */
  revision: number;
}

export type { Page } from '../platform/tablePage';

export interface ConnectorStore {
  get(id: string): Promise<{ connector: StoredConnector; etag: string } | undefined>;
  /** Inserts the record; 409 if the id exists. */
  insert(connector: StoredConnector): Promise<string>;
  /** Replaces the record when its ETag still matches (or unconditionally without one). */
  replace(connector: StoredConnector, etag: string | undefined): Promise<string>;
  deleteRecord(id: string, etag: string | undefined): Promise<void>;
  upsertRoute(connector: StoredConnector): Promise<void>;
  deleteRoute(sourceApp: string, id: string): Promise<void>;
  /** Route copies of one source app (case-insensitive): the sync's hot path. */
  listBySourceApp(sourceApp: string): Promise<StoredConnector[]>;
  list(
    filter: { sourceApp?: string; backOffice?: BackOffice },
    page: { size: number; token?: string },
  ): Promise<Page<StoredConnector>>;
}

const RECORD_ROW = 'connector';
const ROUTE_PREFIX = 'app:';

/** Table keys may not hold / \ # ? or control characters: percent-encode, then swap % for ':' (never produced by the encoder). */
export function sourceAppKey(sourceApp: string): string {
  return encodeURIComponent(normaliseSourceApp(sourceApp))
    .replace(/[!'()*~.]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%/g, ':');
}

const routePartition = (sourceApp: string) => `${ROUTE_PREFIX}${sourceAppKey(sourceApp)}`;

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

function toEntity(c: StoredConnector, partitionKey: string, rowKey: string): Entity {
  // Nulls are left out: Table Storage has no null, a missing property reads back as null.
  const entity: Entity = {
    partitionKey,
    rowKey,
    id: c.id,
    name: c.name,
    description: c.description,
    sourceApp: c.sourceApp,
    backOffice: c.backOffice,
    apiType: c.apiType,
    sendAppointments: c.sendAppointments,
    databaseActions: c.databaseActions.join(','),
    webServiceUri: c.webServiceUri,
    authType: c.authType,
    hasPassword: c.hasPassword,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    revision: c.revision,
  };
  if (c.sourceType !== null) entity.sourceType = c.sourceType;
  if (c.login !== null) entity.login = c.login;
  if (c.secretName !== null) entity.secretName = c.secretName;
  if (c.secretVersion !== null) entity.secretVersion = c.secretVersion;
  return entity;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function fromEntity(e: Record<string, unknown>): StoredConnector {
  return {
    id: String(e.id),
    name: String(e.name ?? ''),
    description: String(e.description ?? ''),
    sourceApp: String(e.sourceApp),
    sourceType: str(e.sourceType),
    backOffice: e.backOffice as BackOffice,
    apiType: e.apiType as StoredConnector['apiType'],
    sendAppointments: e.sendAppointments === true,
    databaseActions: String(e.databaseActions ?? '')
      .split(',')
      .filter(Boolean) as DatabaseAction[],
    webServiceUri: String(e.webServiceUri),
    authType: e.authType as AuthType,
    login: str(e.login),
    hasPassword: e.hasPassword === true,
    createdAt: String(e.createdAt),
    updatedAt: String(e.updatedAt),
    secretName: str(e.secretName),
    secretVersion: str(e.secretVersion),
    // Stored as Int32 (a JS number); never a bigint, so JSON stays safe.
    revision: Number(e.revision ?? 0),
  };
}

function storageFailure(operation: string, error: unknown): never {
  throw new DependencyError(`Table storage failed to ${operation}.`, 'storage-unavailable', { cause: error });
}

export function createConnectorStore(table: () => Promise<TableClient>): ConnectorStore {
  const conditional = async (op: string, run: () => Promise<object>, id: string): Promise<string> => {
    try {
      return ((await run()) as { etag?: string }).etag ?? '';
    } catch (error) {
      if (statusCodeOf(error) === 412)
        throw new PreconditionFailedError(
          `Connector ${id} was changed by someone else; GET it again and retry with its ETag.`,
        );
      if (statusCodeOf(error) === 404) throw new NotFoundError(`Connector ${id} does not exist.`);
      return storageFailure(op, error);
    }
  };
  return {
    async get(id) {
      try {
        const entity = await (await table()).getEntity<Record<string, unknown>>(id, RECORD_ROW);
        return { connector: fromEntity(entity), etag: (entity as TableEntityResult<unknown>).etag };
      } catch (error) {
        if (statusCodeOf(error) === 404) return undefined;
        return storageFailure('read a connector', error);
      }
    },
    async insert(connector) {
      try {
        return (await (await table()).createEntity(toEntity(connector, connector.id, RECORD_ROW))).etag ?? '';
      } catch (error) {
        return storageFailure('insert a connector', error);
      }
    },
    async replace(connector, etag) {
      const client = await table();
      return conditional(
        'replace a connector',
        () => client.updateEntity(toEntity(connector, connector.id, RECORD_ROW), 'Replace', { etag: etag ?? '*' }),
        connector.id,
      );
    },
    async deleteRecord(id, etag) {
      const client = await table();
      await conditional('delete a connector', () => client.deleteEntity(id, RECORD_ROW, { etag: etag ?? '*' }), id);
    },
    async upsertRoute(connector) {
      try {
        await (await table()).upsertEntity(
          toEntity(connector, routePartition(connector.sourceApp), connector.id),
          'Replace',
        );
      } catch (error) {
        storageFailure('write the routing copy', error);
      }
    },
    async deleteRoute(sourceApp, id) {
      try {
        await (await table()).deleteEntity(routePartition(sourceApp), id);
      } catch (error) {
        if (statusCodeOf(error) !== 404) storageFailure('delete the routing copy', error);
      }
    },
    async listBySourceApp(sourceApp) {
      const client = await table();
      const items: StoredConnector[] = [];
      try {
        for await (const e of client.listEntities<Record<string, unknown>>({
          queryOptions: { filter: odata`PartitionKey eq ${routePartition(sourceApp)}` },
        })) {
          items.push(fromEntity(e));
        }
      } catch (error) {
        storageFailure('list connectors', error);
      }
      return items;
    },
    async list(filter, page) {
      const client = await table();
      const partition = filter.sourceApp
        ? odata`PartitionKey eq ${routePartition(filter.sourceApp)}`
        : odata`PartitionKey ge ${ROUTE_PREFIX} and PartitionKey lt ${'app;'}`;
      const query = filter.backOffice ? `${partition} and ${odata`backOffice eq ${filter.backOffice}`}` : partition;
      return readPage(client, query, page, fromEntity, 'connectors');
    },
  };
}
