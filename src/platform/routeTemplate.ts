// ASP.NET-style route templates as the Functions host understands them:
// literal segments (case-insensitive), {name}, {name?}, {name:constraint(arg)}, {name=default}, {*rest}.
// A segment is either all literal or one parameter; that covers every route this app and the host use.

type Constraint = (value: string) => boolean;

const num = (s: string) => Number(s);
const constraintFactories: Record<string, (args: string[]) => Constraint> = {
  int: () => (v) => /^-?\d+$/.test(v) && Math.abs(num(v)) <= 2 ** 31,
  long: () => (v) => /^-?\d+$/.test(v),
  alpha: () => (v) => /^[a-z]+$/i.test(v),
  bool: () => (v) => /^(true|false)$/i.test(v),
  guid: () => (v) => /^\{?[\da-f]{8}-?[\da-f]{4}-?[\da-f]{4}-?[\da-f]{4}-?[\da-f]{12}\}?$/i.test(v),
  datetime: () => (v) => !Number.isNaN(Date.parse(v)),
  decimal: () => (v) => /^-?\d+(\.\d+)?$/.test(v),
  double: () => (v) => /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v),
  float: () => (v) => /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v),
  minlength:
    ([n]) =>
    (v) =>
      v.length >= num(n!),
  maxlength:
    ([n]) =>
    (v) =>
      v.length <= num(n!),
  length:
    ([a, b]) =>
    (v) =>
      b === undefined ? v.length === num(a!) : v.length >= num(a!) && v.length <= num(b),
  min:
    ([n]) =>
    (v) =>
      /^-?\d+$/.test(v) && num(v) >= num(n!),
  max:
    ([n]) =>
    (v) =>
      /^-?\d+$/.test(v) && num(v) <= num(n!),
  range:
    ([a, b]) =>
    (v) =>
      /^-?\d+$/.test(v) && num(v) >= num(a!) && num(v) <= num(b!),
  regex: ([pattern]) => {
    // Braces are doubled inside templates ({{ and }}), as in ASP.NET.
    const re = new RegExp(pattern!.replace(/\{\{/g, '{').replace(/\}\}/g, '}'), 'i');
    return (v) => re.test(v);
  },
};

interface Segment {
  kind: 'literal' | 'param' | 'catchAll';
  text: string;
  optional: boolean;
  defaultValue?: string;
  constraints: Constraint[];
}

export class RouteTemplateError extends Error {
  override readonly name = 'RouteTemplateError';
}

export interface CompiledRoute {
  template: string;
  /** Lower sorts first: literal < constrained parameter < parameter < catch-all, segment by segment. */
  precedence: number[];
  match(path: string): Record<string, string> | null;
}

function parseConstraints(spec: string, template: string): Constraint[] {
  // "int:min(1)" or "regex(^a:b$)": split on ':' outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of spec) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((part) => {
    const m = /^([a-z]+)(?:\((.*)\))?$/i.exec(part);
    const factory = m ? constraintFactories[m[1]!.toLowerCase()] : undefined;
    if (!m || !factory) throw new RouteTemplateError(`Unknown route constraint "${part}" in "${template}"`);
    const args = m[1]!.toLowerCase() === 'regex' ? [m[2] ?? ''] : (m[2]?.split(',').map((a) => a.trim()) ?? []);
    return factory(args);
  });
}

function parseSegment(raw: string, template: string): Segment {
  if (!raw.startsWith('{')) {
    if (raw.includes('{') || raw.includes('}'))
      throw new RouteTemplateError(`Unsupported segment "${raw}" in "${template}"`);
    return { kind: 'literal', text: raw.toLowerCase(), optional: false, constraints: [] };
  }
  if (!raw.endsWith('}')) throw new RouteTemplateError(`Unsupported segment "${raw}" in "${template}"`);
  let body = raw.slice(1, -1);
  const catchAll = body.startsWith('*');
  if (catchAll) body = body.replace(/^\*+/, '');
  let optional = false;
  let defaultValue: string | undefined;
  const eq = body.indexOf('=');
  if (eq >= 0) {
    defaultValue = body.slice(eq + 1);
    body = body.slice(0, eq);
  }
  if (body.endsWith('?')) {
    optional = true;
    body = body.slice(0, -1);
  }
  const colon = body.indexOf(':');
  const name = colon >= 0 ? body.slice(0, colon) : body;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new RouteTemplateError(`Bad parameter name "${name}" in "${template}"`);
  const constraints = colon >= 0 ? parseConstraints(body.slice(colon + 1), template) : [];
  return {
    kind: catchAll ? 'catchAll' : 'param',
    text: name,
    optional: optional || catchAll,
    defaultValue,
    constraints,
  };
}

export function compileRoute(template: string): CompiledRoute {
  const trimmed = template.replace(/^\/+|\/+$/g, '');
  const segments = trimmed === '' ? [] : trimmed.split('/').map((s) => parseSegment(s, template));
  segments.forEach((s, i) => {
    const last = i === segments.length - 1;
    if (s.kind === 'catchAll' && !last)
      throw new RouteTemplateError(`A catch-all must be the last segment: "${template}"`);
    if (s.optional && s.kind === 'param' && !last && !segments.slice(i + 1).every((n) => n.optional)) {
      throw new RouteTemplateError(`Only trailing parameters may be optional: "${template}"`);
    }
  });
  const precedence = segments.map((s) =>
    s.kind === 'literal' ? 1 : s.kind === 'catchAll' ? 5 : s.constraints.length ? 3 : 4,
  );

  return {
    template,
    precedence,
    match(path) {
      const parts = path.replace(/^\/+|\/+$/g, '');
      const values = parts === '' ? [] : parts.split('/');
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        if (seg.kind === 'catchAll') {
          const rest = values.slice(i).map(safeDecode);
          if (rest.some((v) => v === null)) return null;
          const joined = rest.join('/');
          if (joined || seg.defaultValue !== undefined) params[seg.text] = joined || (seg.defaultValue ?? '');
          if (joined && !seg.constraints.every((c) => c(joined))) return null;
          return params;
        }
        const raw = values[i];
        if (raw === undefined || raw === '') {
          if (!seg.optional && seg.defaultValue === undefined) return null;
          if (seg.defaultValue !== undefined) params[seg.text] = seg.defaultValue;
          continue;
        }
        const value = safeDecode(raw);
        if (value === null) return null;
        if (seg.kind === 'literal') {
          if (value.toLowerCase() !== seg.text) return null;
        } else {
          if (!seg.constraints.every((c) => c(value))) return null;
          params[seg.text] = value;
        }
      }
      return values.length <= segments.length ? params : null;
    },
  };
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Sorts routes the way the host does: most specific first, then by template text for a stable order. */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    const pa = a.precedence[i] ?? 0;
    const pb = b.precedence[i] ?? 0;
    if (pa !== pb) return pa - pb;
  }
  return a.template.localeCompare(b.template);
}
