// A small evaluator for the part of KQL the alert queries of infra/alerts.json use, so the tests can run each
// query over sample rows (sampled ones included) and check the number the alert compares with its threshold.
// Supported: `table | where e | extend n = e, ... | summarize n = agg(...), ... [by n = e, ...]`; expressions
// with and/or, == != > >= < <=, in (...), startswith and has (case-insensitive, as in KQL), + - * /, member
// access (a.b, a["b"]), and the functions tostring, todouble, parse_json, substring, indexof, iff, strcat and the
// aggregates sum, sumif and max. Anything else throws, so a query that grows past this subset fails its test
// instead of passing unchecked. (The real Kusto parser checks the same queries' names and types:
// test/support/kustoParser.ts.)

type Row = Record<string, unknown>;
type Token = { kind: 'id' | 'str' | 'num' | 'op'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*")|(\d+(?:\.\d+)?)|([A-Za-z_][\w.]*)|(==|!=|>=|<=|[|(),=<>+\-*/[\]]))/y;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < text.trimEnd().length) {
    re.lastIndex = at;
    m = re.exec(text);
    if (!m) throw new Error(`KQL subset: cannot read "${text.slice(at, at + 20)}"`);
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'str', text: JSON.parse(m[1]) as string });
    else if (m[2]) tokens.push({ kind: 'num', text: m[2] });
    else if (m[3]) tokens.push({ kind: 'id', text: m[3] });
    else tokens.push({ kind: 'op', text: m[4]! });
  }
  return tokens;
}

type Expr = (row: Row) => unknown;
type Aggregate = { kind: 'sum' | 'sumif' | 'max'; value: Expr; condition?: Expr };

class Parser {
  i = 0;
  constructor(readonly tokens: Token[]) {}
  peek = () => this.tokens[this.i];
  next = () => this.tokens[this.i++]!;
  accept(text: string): boolean {
    if (this.peek()?.text !== text) return false;
    this.i++;
    return true;
  }
  expect(text: string): void {
    if (!this.accept(text)) throw new Error(`KQL subset: expected "${text}" at "${this.peek()?.text}"`);
  }

  expression(): Expr {
    let left = this.and();
    while (this.accept('or')) {
      const [l, r] = [left, this.and()];
      left = (row) => Boolean(l(row)) || Boolean(r(row));
    }
    return left;
  }
  and(): Expr {
    let left = this.comparison();
    while (this.accept('and')) {
      const [l, r] = [left, this.comparison()];
      left = (row) => Boolean(l(row)) && Boolean(r(row));
    }
    return left;
  }
  comparison(): Expr {
    const left = this.additive();
    const op = this.peek()?.text;
    if (op === 'in') {
      this.next();
      const options = this.arguments();
      return (row) => options.some((o) => o(row) === left(row));
    }
    if (!op || !['==', '!=', '>', '>=', '<', '<=', 'startswith', 'has'].includes(op)) return left;
    this.next();
    const right = this.additive();
    return (row) => {
      const [a, b] = [left(row), right(row)];
      switch (op) {
        case '==':
          return a === b;
        case '!=':
          return a !== b;
        case '>':
          return Number(a) > Number(b);
        case '>=':
          return Number(a) >= Number(b);
        case '<':
          return Number(a) < Number(b);
        case '<=':
          return Number(a) <= Number(b);
        case 'startswith':
          return String(a).toLowerCase().startsWith(String(b).toLowerCase());
        default:
          return String(a).toLowerCase().includes(String(b).toLowerCase());
      }
    };
  }
  additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const op = this.peek()?.text;
      if (op !== '+' && op !== '-') return left;
      this.next();
      const [l, r] = [left, this.multiplicative()];
      left = op === '+' ? (row) => Number(l(row)) + Number(r(row)) : (row) => Number(l(row)) - Number(r(row));
    }
  }
  multiplicative(): Expr {
    let left = this.primary();
    for (;;) {
      const op = this.peek()?.text;
      if (op !== '*' && op !== '/') return left;
      this.next();
      const [l, r] = [left, this.primary()];
      left = op === '*' ? (row) => Number(l(row)) * Number(r(row)) : (row) => Number(l(row)) / Number(r(row));
    }
  }
  arguments(): Expr[] {
    const args: Expr[] = [];
    this.expect('(');
    if (!this.accept(')')) {
      do args.push(this.expression());
      while (this.accept(','));
      this.expect(')');
    }
    return args;
  }
  primary(): Expr {
    const token = this.next();
    if (token.kind === 'str') return () => token.text;
    if (token.kind === 'num') return () => Number(token.text);
    if (token.text === '(') {
      const inner = this.expression();
      this.expect(')');
      return inner;
    }
    if (token.kind !== 'id') throw new Error(`KQL subset: unexpected "${token.text}"`);
    if (token.text === 'true' || token.text === 'false') return () => token.text === 'true';
    if (this.peek()?.text === '(') {
      const args = this.arguments();
      const fn = functions[token.text];
      if (!fn) throw new Error(`KQL subset: no function ${token.text}`);
      return (row) => fn(...args.map((a) => a(row)));
    }
    const path = token.text.split('.');
    let access: Expr = (row) => path.reduce<unknown>((v, key) => (v as Row | undefined)?.[key], row);
    while (this.accept('[')) {
      const [object, key] = [access, this.expression()];
      this.expect(']');
      access = (row) => (object(row) as Row | undefined)?.[String(key(row))];
    }
    return access;
  }
  aggregate(): Aggregate {
    const name = this.next().text;
    const args = this.arguments();
    if (name === 'sum' && args.length === 1) return { kind: 'sum', value: args[0]! };
    if (name === 'sumif' && args.length === 2) return { kind: 'sumif', value: args[0]!, condition: args[1]! };
    if (name === 'max' && args.length === 1) return { kind: 'max', value: args[0]! };
    throw new Error(`KQL subset: no aggregate ${name}/${args.length}`);
  }
}

const functions: Record<string, (...args: unknown[]) => unknown> = {
  tostring: (v) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)),
  todouble: (v) => Number(v),
  parse_json: (v) => {
    try {
      return JSON.parse(String(v));
    } catch {
      return undefined;
    }
  },
  substring: (s, start) => String(s).slice(Math.max(0, Number(start))),
  indexof: (s, what) => String(s).indexOf(String(what)),
  iff: (condition, a, b) => (condition ? a : b),
  strcat: (...parts) => parts.map((p) => functions.tostring!(p)).join(''),
};

function aggregateOf(agg: Aggregate, rows: Row[]): number {
  if (agg.kind === 'max') return Math.max(...rows.map((row) => Number(agg.value(row))));
  return rows.reduce<number>(
    (sum, row) => (agg.kind === 'sum' || agg.condition!(row) ? sum + Number(agg.value(row)) : sum),
    0,
  );
}

/** Runs a query over named tables of rows; returns the rows it ends with. */
export function runKql(query: string, tables: Record<string, Row[]>): Row[] {
  const stages = query.split('|').map((s) => s.trim());
  // `|` never appears inside our strings; a query that needs it needs a real tokenizer first.
  let rows: Row[] | undefined = tables[stages[0]!];
  if (!rows) throw new Error(`KQL subset: no table ${stages[0]}`);
  for (const stage of stages.slice(1)) {
    const [verb, ...rest] = stage.split(/\s+/);
    const p = new Parser(tokenize(rest.join(' ')));
    if (verb === 'where') {
      const condition = p.expression();
      rows = rows.filter((row) => Boolean(condition(row)));
    } else if (verb === 'extend') {
      const columns: Array<[string, Expr]> = [];
      do {
        const name = p.next().text;
        p.expect('=');
        columns.push([name, p.expression()]);
      } while (p.accept(','));
      rows = rows.map((row) => {
        const out = { ...row };
        for (const [name, expr] of columns) out[name] = expr(out);
        return out;
      });
    } else if (verb === 'summarize') {
      const columns: Array<[string, Aggregate]> = [];
      do {
        const name = p.next().text;
        p.expect('=');
        columns.push([name, p.aggregate()]);
      } while (p.accept(','));
      const keys: Array<[string, Expr]> = [];
      if (p.accept('by'))
        do {
          const name = p.next().text;
          keys.push([name, p.accept('=') ? p.expression() : (row) => row[name]]);
        } while (p.accept(','));
      const groups = new Map<string, { key: Row; rows: Row[] }>();
      for (const row of rows) {
        const key = Object.fromEntries(keys.map(([name, expr]) => [name, expr(row)]));
        const id = JSON.stringify(key);
        if (!groups.has(id)) groups.set(id, { key, rows: [] });
        groups.get(id)!.rows.push(row);
      }
      // Without `by`, one row even over no rows (as KQL's summarize does); with `by`, a row per group.
      if (keys.length === 0 && groups.size === 0) groups.set('{}', { key: {}, rows: [] });
      rows = [...groups.values()].map(({ key, rows: members }) => ({
        ...key,
        ...Object.fromEntries(columns.map(([name, agg]) => [name, aggregateOf(agg, members)])),
      }));
    } else throw new Error(`KQL subset: no operator ${verb}`);
    if (p.i < p.tokens.length) throw new Error(`KQL subset: unread text in "${stage}"`);
  }
  return rows;
}
