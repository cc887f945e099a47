// An in-memory Table Storage table for the unit layer: the subset of @azure/data-tables' TableClient the stores
// use (point reads, create/update/upsert/delete with ETags, OData filters with paging, entity group
// transactions), answering as the service does: 404 ResourceNotFound, 409 EntityAlreadyExists, 412
// UpdateConditionNotSatisfied, an atomic transaction that fails whole with its failing operation's status.
// `test/fakes/memoryTable.test.ts` holds it to Azurite's answers for the same operations.
import type { TableClient, TransactionAction } from '@azure/data-tables';

type Value = string | number | boolean | bigint | Date | Uint8Array;
type Row = { partitionKey: string; rowKey: string; etag: string; props: Record<string, Value> };

/** An error shaped like the SDK's RestError: what the stores look at is `statusCode` (and `code`). */
export class TableError extends Error {
  override readonly name = 'RestError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
  ) {
    super(`${statusCode} ${code}`);
  }
}

export interface TableCalls {
  /** Requests by operation: one transaction counts once, as one HTTP request would. */
  byKind: Record<string, number>;
  total: number;
}

const notFound = () => new TableError(404, 'ResourceNotFound');
const conflict = () => new TableError(409, 'EntityAlreadyExists');
const stale = () => new TableError(412, 'UpdateConditionNotSatisfied');

/** A value as the SDK writes it: `{ value, type }` objects are typed values, the rest are taken as they are. */
function fromWire(value: unknown): Value | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const typed = value as { value: unknown; type: string };
    switch (typed.type) {
      case 'Double':
      case 'Int32':
        return Number(typed.value);
      case 'Int64':
        return BigInt(String(typed.value));
      case 'Boolean':
        return typed.value === true || typed.value === 'true';
      case 'DateTime':
        return new Date(String(typed.value));
      default:
        return String(typed.value);
    }
  }
  if (value instanceof Uint8Array) return new Uint8Array(value);
  return value as Value;
}

const copy = (value: Value): Value =>
  value instanceof Uint8Array ? new Uint8Array(value) : value instanceof Date ? new Date(value) : value;

// ---- OData $filter: comparisons joined by and / or / not, with parentheses --------------------------------

type Token = { kind: 'word' | 'op' | 'lit' | 'paren'; text: string; value?: Value };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      tokens.push({ kind: 'paren', text: c });
      i++;
      continue;
    }
    const quoted = /^(datetime|guid)?'/.exec(filter.slice(i));
    if (quoted) {
      let j = i + quoted[0].length;
      let text = '';
      for (;;) {
        if (j >= filter.length) throw new TableError(400, 'InvalidInput');
        if (filter[j] === "'") {
          if (filter[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += filter[j++];
      }
      tokens.push({ kind: 'lit', text, value: quoted[1] === 'datetime' ? new Date(text) : text });
      i = j + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?L?/.exec(filter.slice(i));
    if (number) {
      tokens.push({ kind: 'lit', text: number[0], value: Number(number[0].replace(/L$/, '')) });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][\w.]*/.exec(filter.slice(i));
    if (!word) throw new TableError(400, 'InvalidInput');
    const text = word[0];
    i += text.length;
    if (/^(eq|ne|gt|ge|lt|le)$/.test(text)) tokens.push({ kind: 'op', text });
    else if (text === 'true' || text === 'false') tokens.push({ kind: 'lit', text, value: text === 'true' });
    else tokens.push({ kind: 'word', text });
  }
  return tokens;
}

type Predicate = (row: Row) => boolean;

function compare(actual: Value | undefined, op: string, expected: Value): boolean {
  if (actual === undefined) return false;
  let a: number | string | boolean;
  let b: number | string | boolean;
  if (expected instanceof Date) {
    if (!(actual instanceof Date)) return false;
    [a, b] = [actual.getTime(), expected.getTime()];
  } else if (typeof expected === 'number') {
    if (typeof actual !== 'number' && typeof actual !== 'bigint') return false;
    [a, b] = [Number(actual), expected];
  } else if (typeof expected === 'boolean' || typeof expected === 'string') {
    if (typeof actual !== typeof expected) return false;
    [a, b] = [actual as string | boolean, expected];
  } else return false;
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    default:
      return a <= b;
  }
}

function parseFilter(filter: string): Predicate {
  const tokens = tokenize(filter);
  let at = 0;
  const peek = () => tokens[at];
  const orExpr = (): Predicate => {
    let left = andExpr();
    while (peek()?.kind === 'word' && peek()!.text === 'or') {
      at++;
      const [l, r] = [left, andExpr()];
      left = (row) => l(row) || r(row);
    }
    return left;
  };
  const andExpr = (): Predicate => {
    let left = unary();
    while (peek()?.kind === 'word' && peek()!.text === 'and') {
      at++;
      const [l, r] = [left, unary()];
      left = (row) => l(row) && r(row);
    }
    return left;
  };
  const unary = (): Predicate => {
    const token = tokens[at++];
    if (!token) throw new TableError(400, 'InvalidInput');
    if (token.kind === 'word' && token.text === 'not') {
      const inner = unary();
      return (row) => !inner(row);
    }
    if (token.kind === 'paren' && token.text === '(') {
      const inner = orExpr();
      if (tokens[at++]?.text !== ')') throw new TableError(400, 'InvalidInput');
      return inner;
    }
    const op = tokens[at++];
    const literal = tokens[at++];
    if (token.kind !== 'word' || op?.kind !== 'op' || literal?.kind !== 'lit')
      throw new TableError(400, 'InvalidInput');
    const read = (row: Row): Value | undefined =>
      token.text === 'PartitionKey' ? row.partitionKey : token.text === 'RowKey' ? row.rowKey : row.props[token.text];
    return (row) => compare(read(row), op.text, literal.value!);
  };
  const predicate = orExpr();
  if (at !== tokens.length) throw new TableError(400, 'InvalidInput');
  return predicate;
}

// ---- the table ---------------------------------------------------------------------------------------------

const keyOf = (pk: string, rk: string) => `${pk}\u0000${rk}`;
const ordinal = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class MemoryTable {
  readonly #rows = new Map<string, Row>();
  #etags = 0;
  readonly calls: TableCalls = { byKind: {}, total: 0 };
  /** Runs before every request; throw from it to fail that request (a fault injected by a test). */
  beforeRequest: ((kind: string, keys?: { partitionKey: string; rowKey: string }) => void) | undefined;

  constructor(readonly name = 'memory') {}

  #count(kind: string, keys?: { partitionKey: string; rowKey: string }) {
    this.calls.byKind[kind] = (this.calls.byKind[kind] ?? 0) + 1;
    this.calls.total++;
    this.beforeRequest?.(kind, keys);
  }

  #etag() {
    return `W/"datetime'${new Date(1_800_000_000_000 + ++this.#etags).toISOString()}'"`;
  }

  /** The rows in key order (for assertions). */
  rows(): Array<Record<string, unknown>> {
    return this.#sorted().map((row) => this.#entity(row));
  }

  #sorted(): Row[] {
    return [...this.#rows.values()].sort(
      (a, b) => ordinal(a.partitionKey, b.partitionKey) || ordinal(a.rowKey, b.rowKey),
    );
  }

  #entity(row: Row, select?: string[]): Record<string, unknown> {
    const entity: Record<string, unknown> = { etag: row.etag };
    const wants = (name: string) => !select || select.includes(name);
    if (wants('PartitionKey')) entity.partitionKey = row.partitionKey;
    if (wants('RowKey')) entity.rowKey = row.rowKey;
    for (const [k, v] of Object.entries(row.props)) if (wants(k)) entity[k] = copy(v);
    return entity;
  }

  static #props(entity: Record<string, unknown>): Record<string, Value> {
    const props: Record<string, Value> = {};
    for (const [k, v] of Object.entries(entity)) {
      if (k === 'partitionKey' || k === 'rowKey' || k === 'etag' || k === 'timestamp' || k === 'odata.etag') continue;
      const value = fromWire(v);
      if (value !== undefined) props[k] = value;
    }
    return props;
  }

  // Each operation on a map of rows, so a transaction can run on a copy and commit whole.
  #create(rows: Map<string, Row>, entity: Record<string, unknown>): Row {
    const pk = String(entity.partitionKey);
    const rk = String(entity.rowKey);
    if (rows.has(keyOf(pk, rk))) throw conflict();
    const row = { partitionKey: pk, rowKey: rk, etag: this.#etag(), props: MemoryTable.#props(entity) };
    rows.set(keyOf(pk, rk), row);
    return row;
  }

  #update(
    rows: Map<string, Row>,
    entity: Record<string, unknown>,
    mode: string | undefined,
    etag: string | undefined,
    upsert: boolean,
  ): Row {
    const pk = String(entity.partitionKey);
    const rk = String(entity.rowKey);
    const current = rows.get(keyOf(pk, rk));
    if (!current) {
      if (!upsert) throw notFound();
      return this.#create(rows, entity);
    }
    if (etag !== undefined && etag !== '*' && etag !== current.etag) throw stale();
    const props = MemoryTable.#props(entity);
    const row = {
      partitionKey: pk,
      rowKey: rk,
      etag: this.#etag(),
      props: mode === 'Merge' ? { ...current.props, ...props } : props,
    };
    rows.set(keyOf(pk, rk), row);
    return row;
  }

  #delete(rows: Map<string, Row>, pk: string, rk: string, etag?: string) {
    const current = rows.get(keyOf(pk, rk));
    if (!current) throw notFound();
    if (etag !== undefined && etag !== '*' && etag !== current.etag) throw stale();
    rows.delete(keyOf(pk, rk));
  }

  /** The object the stores call: a TableClient as far as they use one. */
  client(): TableClient {
    const table = this;
    const client = {
      tableName: this.name,
      async createTable() {
        table.#count('createTable');
      },
      async getEntity(pk: string, rk: string) {
        table.#count('getEntity', { partitionKey: pk, rowKey: rk });
        const row = table.#rows.get(keyOf(pk, rk));
        if (!row) throw notFound();
        return table.#entity(row);
      },
      async createEntity(entity: Record<string, unknown>) {
        table.#count('createEntity', entity as never);
        return { etag: table.#create(table.#rows, entity).etag };
      },
      async updateEntity(entity: Record<string, unknown>, mode?: string, options?: { etag?: string }) {
        table.#count('updateEntity', entity as never);
        return { etag: table.#update(table.#rows, entity, mode, options?.etag ?? '*', false).etag };
      },
      async upsertEntity(entity: Record<string, unknown>, mode?: string) {
        table.#count('upsertEntity', entity as never);
        return { etag: table.#update(table.#rows, entity, mode, undefined, true).etag };
      },
      async deleteEntity(pk: string, rk: string, options?: { etag?: string }) {
        table.#count('deleteEntity', { partitionKey: pk, rowKey: rk });
        table.#delete(table.#rows, pk, rk, options?.etag);
        return {};
      },
      async submitTransaction(actions: TransactionAction[]) {
        table.#count('submitTransaction', actions[0]?.[1] as { partitionKey: string; rowKey: string } | undefined);
        const partitions = new Set(actions.map((a) => String((a[1] as { partitionKey: string }).partitionKey)));
        if (actions.length === 0 || actions.length > 100 || partitions.size !== 1)
          throw new TableError(400, 'InvalidInput');
        const keys = actions.map((a) => String((a[1] as { rowKey: string }).rowKey));
        if (new Set(keys).size !== keys.length) throw new TableError(400, 'InvalidDuplicateRow');
        const draft = new Map(table.#rows);
        const subResponses = actions.map(([kind, entity, mode, options]) => {
          const e = entity as Record<string, unknown>;
          if (kind === 'delete') {
            table.#delete(
              draft,
              String(e.partitionKey),
              String(e.rowKey),
              (mode as unknown as { etag?: string } | undefined)?.etag,
            );
            return { status: 204, rowKey: String(e.rowKey) };
          }
          const row =
            kind === 'create'
              ? table.#create(draft, e)
              : table.#update(
                  draft,
                  e,
                  mode as string,
                  kind === 'update' ? ((options as { etag?: string })?.etag ?? '*') : undefined,
                  kind === 'upsert',
                );
          return { status: 204, rowKey: row.rowKey, etag: row.etag };
        });
        table.#rows.clear();
        for (const [k, v] of draft) table.#rows.set(k, v);
        return { status: 202, subResponses };
      },
      listEntities(options: { queryOptions?: { filter?: string; select?: string[] } } = {}) {
        const predicate = options.queryOptions?.filter ? parseFilter(options.queryOptions.filter) : () => true;
        const select = options.queryOptions?.select;
        const matching = () => table.#sorted().filter(predicate);
        async function* pages(settings: { maxPageSize?: number; continuationToken?: string } = {}) {
          const size = Math.min(settings.maxPageSize ?? 1000, 1000);
          let after = settings.continuationToken
            ? (JSON.parse(Buffer.from(settings.continuationToken, 'base64url').toString('utf8')) as [string, string])
            : undefined;
          for (;;) {
            table.#count('query');
            const rows = matching().filter(
              (r) =>
                !after || ordinal(r.partitionKey, after[0]) > 0 || (r.partitionKey === after[0] && r.rowKey > after[1]),
            );
            const page = rows.slice(0, size);
            const more = rows.length > size;
            const last = page.at(-1);
            const token =
              more && last
                ? Buffer.from(JSON.stringify([last.partitionKey, last.rowKey])).toString('base64url')
                : undefined;
            yield Object.assign(
              page.map((r) => table.#entity(r, select)),
              { continuationToken: token },
            );
            if (!token) return;
            after = [last!.partitionKey, last!.rowKey];
          }
        }
        return {
          async *[Symbol.asyncIterator]() {
            for await (const page of pages()) yield* page;
          },
          byPage: (settings?: { maxPageSize?: number; continuationToken?: string }) => pages(settings),
        };
      },
    };
    return client as unknown as TableClient;
  }
}

/** The tables of one in-memory storage account, by name, and their request counts together. */
export class MemoryTables {
  readonly #tables = new Map<string, MemoryTable>();

  get(name: string): MemoryTable {
    let table = this.#tables.get(name);
    if (!table) {
      table = new MemoryTable(name);
      this.#tables.set(name, table);
    }
    return table;
  }

  /** A `Table` (stores/table.ts) over the named table. */
  table = (name: string) => async () => this.get(name).client();

  get requests(): number {
    return [...this.#tables.values()].reduce((sum, t) => sum + t.calls.total, 0);
  }

  requestsByTable(): Record<string, number> {
    return Object.fromEntries([...this.#tables].map(([name, t]) => [name, t.calls.total]));
  }
}
