// Groups the writes many concurrent callers make to one partition into entity group transactions: up to 100
// operations in one request instead of 100 requests. Each caller still gets its own result. A caller may hand
// over a unit of several operations that must happen together (a row and its pointer): a unit is never split.
// A transaction is atomic, so when one operation in it is refused (409, 412, 404) the units are run again one
// by one to find out which; an outage fails every unit of the group.
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { statusCodeOf } from '../platform/errors';
import type { Entity, Table } from './table';

export type TableOp =
  | { kind: 'create'; entity: Entity }
  | { kind: 'upsert'; entity: Entity; mode?: 'Merge' | 'Replace' }
  | { kind: 'update'; entity: Entity; etag: string; mode?: 'Merge' | 'Replace' }
  | { kind: 'delete'; partitionKey: string; rowKey: string };

export interface TableBatcherOptions {
  /** How long a group waits for more operations of its partition. */
  lingerMs?: number;
}

interface Pending {
  ops: TableOp[];
  bytes: number;
  resolve(etags: Array<string | undefined>): void;
  reject(error: unknown): void;
}

const MAX_OPERATIONS = 100;
// The service's limit is 4 MiB per transaction; strings count twice in its size (UTF-16).
const MAX_BYTES = 3 * 1024 * 1024;

const keysOf = (op: TableOp) =>
  op.kind === 'delete' ? { pk: op.partitionKey, rk: op.rowKey } : { pk: op.entity.partitionKey, rk: op.entity.rowKey };

function actionOf(op: TableOp): TransactionAction {
  switch (op.kind) {
    case 'create':
      return ['create', op.entity];
    case 'upsert':
      return ['upsert', op.entity, op.mode ?? 'Replace'];
    case 'update':
      return ['update', op.entity, op.mode ?? 'Replace', { etag: op.etag }];
    case 'delete':
      return ['delete', { partitionKey: op.partitionKey, rowKey: op.rowKey }];
  }
}

async function runOne(client: TableClient, op: TableOp): Promise<string | undefined> {
  switch (op.kind) {
    case 'create':
      return (await client.createEntity(op.entity)).etag;
    case 'upsert':
      return (await client.upsertEntity(op.entity, op.mode ?? 'Replace')).etag;
    case 'update':
      return (await client.updateEntity(op.entity, op.mode ?? 'Replace', { etag: op.etag })).etag;
    case 'delete':
      await client.deleteEntity(op.partitionKey, op.rowKey);
      return undefined;
  }
}

export class TableBatcher {
  readonly #groups = new Map<string, { items: Pending[]; ops: number; bytes: number; timer?: NodeJS.Timeout }>();
  readonly #lingerMs: number;
  /** Requests made (one per transaction or single operation), for the benchmark's storage figures. */
  requests = 0;

  constructor(
    private readonly table: Table,
    options: TableBatcherOptions = {},
  ) {
    this.#lingerMs = options.lingerMs ?? 10;
  }

  /** Queues one operation; resolves with the new ETag, or rejects with the storage error of that operation. */
  async submit(op: TableOp): Promise<string | undefined> {
    return (await this.submitUnit([op]))[0];
  }

  /**
   * Queues operations on one partition that must happen together: all or none (one transaction). Resolves with
   * their ETags in order, or rejects with the storage error that refused the unit.
   */
  submitUnit(ops: TableOp[]): Promise<Array<string | undefined>> {
    const pk = keysOf(ops[0]!).pk;
    if (ops.length > MAX_OPERATIONS || ops.some((op) => keysOf(op).pk !== pk))
      return Promise.reject(new Error('a unit of table writes must be at most 100 operations on one partition'));
    const bytes = ops.reduce((sum, op) => sum + (op.kind === 'delete' ? 200 : JSON.stringify(op.entity).length * 2), 0);
    const rowKeys = new Set(ops.map((op) => keysOf(op).rk));
    return new Promise((resolve, reject) => {
      let group = this.#groups.get(pk);
      // An entity may appear once per transaction, and a transaction has caps on operations and size.
      if (
        group &&
        (group.items.some((p) => p.ops.some((op) => rowKeys.has(keysOf(op).rk))) ||
          group.ops + ops.length > MAX_OPERATIONS ||
          group.bytes + bytes > MAX_BYTES)
      ) {
        this.#flush(pk);
        group = undefined;
      }
      if (!group) {
        group = { items: [], ops: 0, bytes: 0 };
        this.#groups.set(pk, group);
        group.timer = setTimeout(() => this.#flush(pk), this.#lingerMs);
      }
      group.items.push({ ops, bytes, resolve, reject });
      group.ops += ops.length;
      group.bytes += bytes;
      if (group.ops >= MAX_OPERATIONS) this.#flush(pk);
    });
  }

  #flush(pk: string): void {
    const group = this.#groups.get(pk);
    if (!group) return;
    this.#groups.delete(pk);
    clearTimeout(group.timer);
    void this.#run(group.items);
  }

  async #run(items: Pending[]): Promise<void> {
    let client: TableClient;
    try {
      client = await this.table();
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }
    if (items.length === 1) return this.#runEach(client, items);
    this.requests++;
    try {
      const response = await client.submitTransaction(items.flatMap((i) => i.ops.map(actionOf)));
      let at = 0;
      for (const item of items) {
        item.resolve(item.ops.map((_, i) => response.subResponses[at + i]?.etag));
        at += item.ops.length;
      }
    } catch (error) {
      const status = statusCodeOf(error);
      // One unit was refused and the whole group rolled back: find out which, one unit at a time.
      if (status === 404 || status === 409 || status === 412 || status === 400) await this.#runEach(client, items);
      else for (const item of items) item.reject(error);
    }
  }

  /** Each unit on its own: one operation as a plain request, several as a transaction of their own. */
  async #runEach(client: TableClient, items: Pending[]): Promise<void> {
    await Promise.all(
      items.map(async (item) => {
        this.requests++;
        try {
          if (item.ops.length === 1) item.resolve([await runOne(client, item.ops[0]!)]);
          else {
            const response = await client.submitTransaction(item.ops.map(actionOf));
            item.resolve(item.ops.map((_, i) => response.subResponses[i]?.etag));
          }
        } catch (error) {
          item.reject(error);
        }
      }),
    );
  }
}
