// Action URI definitions in Table Storage: PartitionKey = the source app's key (as for connector routes),
// RowKey = id. A render reads one partition; by-id operations look the id up across partitions (a small table).
import type { TableClient } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { sourceAppKey } from '../connectors/connectorStore';
import { DependencyError, NotFoundError, PreconditionFailedError, statusCodeOf } from '../platform/errors';
import type { Versioned } from '../platform/etag';
import type { ActionUri, UriType } from './model';

export interface ActionUriStore {
  inPartition(sourceApp: string): Promise<Array<Versioned<ActionUri>>>;
  byId(id: string): Promise<Versioned<ActionUri> | undefined>;
  insert(value: ActionUri): Promise<string>;
  replace(previous: ActionUri, value: ActionUri, etag: string | undefined): Promise<string>;
  remove(value: ActionUri, etag: string | undefined): Promise<void>;
  list(filter: { sourceApp?: string }): Promise<ActionUri[]>;
}

const partition = (sourceApp: string) => `app:${sourceAppKey(sourceApp)}`;

function toEntity(a: ActionUri) {
  const { id, sourceType, ...rest } = a;
  return { partitionKey: partition(a.sourceApp), rowKey: id, ...rest, ...(sourceType !== null ? { sourceType } : {}) };
}

function fromEntity(e: Record<string, unknown>): Versioned<ActionUri> {
  return {
    etag: String(e.etag ?? ''),
    value: {
      id: String(e.rowKey),
      sourceApp: String(e.sourceApp),
      sourceType: typeof e.sourceType === 'string' ? e.sourceType : null,
      uriType: e.uriType as UriType,
      template: String(e.template),
      description: String(e.description ?? ''),
      isDefault: e.isDefault === true,
      requestType: e.requestType === 'POST' ? 'POST' : 'GET',
      createdAt: String(e.createdAt),
      updatedAt: String(e.updatedAt),
    },
  };
}

export function createActionUriStore(table: () => Promise<TableClient>): ActionUriStore {
  const fail = (op: string, error: unknown): never => {
    if (statusCodeOf(error) === 412)
      throw new PreconditionFailedError(
        'The action URI was changed by someone else; GET it again and retry with its ETag.',
      );
    if (statusCodeOf(error) === 404) throw new NotFoundError('The action URI does not exist.');
    throw new DependencyError(`Table storage failed to ${op}.`, 'storage-unavailable', { cause: error });
  };
  const query = async (filter: string) => {
    const items: Array<Versioned<ActionUri>> = [];
    try {
      for await (const e of (await table()).listEntities<Record<string, unknown>>({ queryOptions: { filter } }))
        items.push(fromEntity(e));
    } catch (error) {
      fail('read action URIs', error);
    }
    return items;
  };
  return {
    inPartition: (sourceApp) => query(odata`PartitionKey eq ${partition(sourceApp)}`),
    byId: async (id) => (await query(odata`RowKey eq ${id}`))[0],
    async insert(value) {
      try {
        return (await (await table()).createEntity(toEntity(value))).etag ?? '';
      } catch (error) {
        return fail('save an action URI', error);
      }
    },
    async replace(previous, value, etag) {
      const client = await table();
      try {
        if (partition(previous.sourceApp) === partition(value.sourceApp)) {
          return (await client.updateEntity(toEntity(value), 'Replace', { etag: etag ?? '*' })).etag ?? '';
        }
        // Moving to another source app moves the row to another partition: check the ETag, insert, delete.
        await client.updateEntity(toEntity(previous), 'Replace', { etag: etag ?? '*' });
        const created = await client.createEntity(toEntity(value));
        await client.deleteEntity(partition(previous.sourceApp), previous.id);
        return created.etag ?? '';
      } catch (error) {
        return fail('save an action URI', error);
      }
    },
    async remove(value, etag) {
      try {
        await (await table()).deleteEntity(partition(value.sourceApp), value.id, { etag: etag ?? '*' });
      } catch (error) {
        fail('delete an action URI', error);
      }
    },
    async list(filter) {
      return (
        await query(
          filter.sourceApp
            ? odata`PartitionKey eq ${partition(filter.sourceApp)}`
            : odata`PartitionKey ge ${'app:'} and PartitionKey lt ${'app;'}`,
        )
      ).map((v) => v.value);
    },
  };
}
