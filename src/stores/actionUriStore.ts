// Action URI definitions in Table Storage: PartitionKey = the source app's key, RowKey = id, so a render reads
// one partition. Beside the definitions each partition holds one guard row per default scope
// (RowKey "default~<source type>~<uri type>") naming the definition that is the default there: a definition
// and its guard are written in one transaction, so two concurrent "make this the default" cannot both win.
// A guard naming a definition that is gone, moved or no longer the default is stale and may be taken over.
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { type ActionUri, uriTypes } from '../model/actionUri';
import { caseKey, sourceAppKey } from '../model/text';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../platform/errors';
import type { Versioned } from '../platform/etag';
import {
  type Entity,
  isConflict,
  isNotFound,
  isPreconditionFailed,
  optional,
  parseRow,
  queryAll,
  readEntity,
  storageFailure,
  type Table,
} from './table';

const partition = (sourceApp: string) => `app:${sourceAppKey(sourceApp)}`;
const GUARD = 'default~';
const guardKey = (a: Pick<ActionUri, 'sourceType' | 'uriType'>) =>
  `${GUARD}${encodeURIComponent(caseKey(a.sourceType ?? '')).replace(/%/g, ':')}~${a.uriType}`;

const definitionRowSchema = z
  .object({
    rowKey: z.uuid(),
    sourceApp: z.string(),
    sourceType: optional(z.string()),
    uriType: z.enum(uriTypes),
    template: z.string(),
    description: z.string().default(''),
    isDefault: z.boolean(),
    requestType: z.enum(['GET', 'POST']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .transform(({ rowKey, ...rest }): ActionUri => ({ id: rowKey, ...rest }));

const guardRowSchema = z.object({ actionUriId: z.string(), etag: z.string() });

function toEntity(a: ActionUri): Entity {
  const { id, sourceType, ...rest } = a;
  return { partitionKey: partition(a.sourceApp), rowKey: id, ...rest, ...(sourceType !== null ? { sourceType } : {}) };
}

const fromEntity = (e: Record<string, unknown>): Versioned<ActionUri> => ({
  etag: String(e.etag ?? ''),
  value: parseRow(definitionRowSchema, e, 'action URI'),
});

const isGuard = (e: Record<string, unknown>) => String(e.rowKey).startsWith(GUARD);

export class DefaultExistsError extends ConflictError {
  constructor(readonly existingId: string) {
    super(`Action URI ${existingId} is already the default in that scope; unset it first.`, 'default-exists');
  }
}

export interface ActionUriStore {
  inPartition(sourceApp: string): Promise<Array<Versioned<ActionUri>>>;
  byId(id: string): Promise<Versioned<ActionUri> | undefined>;
  insert(value: ActionUri): Promise<string>;
  /** Replaces `previous` (read at `etag`, or "*") with `value`, which may move to another source app. */
  replace(previous: ActionUri, value: ActionUri, etag: string): Promise<string>;
  remove(value: ActionUri, etag: string): Promise<void>;
  list(filter: { sourceApp?: string }): Promise<ActionUri[]>;
}

export function createActionUriStore(table: Table): ActionUriStore {
  const fail = (op: string, error: unknown): never => {
    if (error instanceof ConflictError) throw error;
    if (isPreconditionFailed(error))
      throw new PreconditionFailedError(
        'The action URI was changed by someone else; GET it again and retry with its ETag.',
      );
    if (isNotFound(error)) throw new NotFoundError('The action URI does not exist.');
    return storageFailure(op, error);
  };
  const query = async (filter: string) =>
    (await queryAll(await table(), filter, 'action URIs')).filter((e) => !isGuard(e)).map(fromEntity);

  /**
   * The guard operation that makes `value` the default of its scope, to run in the same transaction as the
   * definition's own write: create the guard, or take over one that is stale. Throws DefaultExistsError when
   * another live definition holds it.
   */
  async function claimDefault(client: TableClient, value: ActionUri): Promise<TransactionAction | undefined> {
    const pk = partition(value.sourceApp);
    const entity: Entity = { partitionKey: pk, rowKey: guardKey(value), actionUriId: value.id };
    const found = await readEntity(client, pk, guardKey(value), 'a default guard');
    if (!found) return ['create', entity];
    const guard = parseRow(guardRowSchema, found, 'default guard');
    if (guard.actionUriId === value.id) return undefined;
    const holder = await readEntity(client, pk, guard.actionUriId, 'an action URI');
    const held = holder && fromEntity(holder).value;
    if (held?.isDefault && guardKey(held) === guardKey(value)) throw new DefaultExistsError(held.id);
    return ['update', entity, 'Replace', { etag: guard.etag }];
  }

  /** Runs a write with its guard claim; a lost race on the guard (409/412) is looked at again. */
  async function withDefault(
    client: TableClient,
    value: ActionUri,
    write: TransactionAction,
    then: (etag: string | undefined) => Promise<string>,
  ): Promise<string> {
    for (let round = 0; ; round++) {
      const guard = value.isDefault ? await claimDefault(client, value) : undefined;
      try {
        if (!guard) {
          const result = await client.submitTransaction([write]);
          return then(result.subResponses[0]?.etag);
        }
        const result = await client.submitTransaction([guard, write]);
        return then(result.subResponses[1]?.etag);
      } catch (error) {
        if (guard && (isConflict(error) || isPreconditionFailed(error)) && round < 5 && guardLost(error)) continue;
        throw error;
      }
    }
  }

  return {
    inPartition: (sourceApp) => query(odata`PartitionKey eq ${partition(sourceApp)}`),
    byId: async (id) => (await query(odata`RowKey eq ${id}`))[0],
    async insert(value) {
      const client = await table();
      try {
        return await withDefault(client, value, ['create', toEntity(value)], async (etag) => etag ?? '');
      } catch (error) {
        return fail('save an action URI', error);
      }
    },
    async replace(previous, value, etag) {
      const client = await table();
      try {
        if (partition(previous.sourceApp) === partition(value.sourceApp)) {
          return await withDefault(
            client,
            value,
            ['update', toEntity(value), 'Replace', { etag }],
            async (newEtag) => newEtag ?? '',
          );
        }
        // Moving to another source app moves the row to another partition: check the ETag, insert, delete.
        await client.updateEntity(toEntity(previous), 'Replace', { etag });
        return await withDefault(client, value, ['create', toEntity(value)], async (newEtag) => {
          await client.deleteEntity(partition(previous.sourceApp), previous.id);
          return newEtag ?? '';
        });
      } catch (error) {
        return fail('save an action URI', error);
      }
    },
    async remove(value, etag) {
      try {
        await (await table()).deleteEntity(partition(value.sourceApp), value.id, { etag });
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

/** A transaction error names the failed operation by its index ("0:..."): index 0 is the guard. */
const guardLost = (error: unknown) => /^0:/.test(String((error as Error).message ?? ''));
