// URI templates: RFC 6570 level 4 in full, plus the scheduler's #TOKEN# placeholders.
// A template is compiled once into literal parts (already encoded) and expression closures; expand() only
// concatenates. Values: strings; numbers and booleans as text; Dates as ISO 8601 UTC; lists; flat maps.

export class UriTemplateError extends Error {
  override readonly name = 'UriTemplateError';
  constructor(
    message: string,
    /** Character offset in the template (or -1 when the problem is a variable's value). */
    readonly position: number,
  ) {
    super(position >= 0 ? `${message} (at position ${position})` : message);
  }
}

export type Scalar = string | number | boolean | Date;
export type TemplateValue = Scalar | null | undefined | Scalar[] | Record<string, Scalar | null | undefined>;
export type TemplateVariables = Record<string, TemplateValue>;

export interface CompiledUriTemplate {
  readonly template: string;
  /** Names used by RFC 6570 expressions, in order of first use. */
  readonly variables: string[];
  /** Names of #TOKEN# placeholders, upper case, in order of first use. */
  readonly tokens: string[];
  expand(variables: TemplateVariables): string;
}

interface Operator {
  first: string;
  sep: string;
  named: boolean;
  ifEmpty: string;
  reserved: boolean;
}

const OPERATORS: Record<string, Operator> = {
  '': { first: '', sep: ',', named: false, ifEmpty: '', reserved: false },
  '+': { first: '', sep: ',', named: false, ifEmpty: '', reserved: true },
  '#': { first: '#', sep: ',', named: false, ifEmpty: '', reserved: true },
  '.': { first: '.', sep: '.', named: false, ifEmpty: '', reserved: false },
  '/': { first: '/', sep: '/', named: false, ifEmpty: '', reserved: false },
  ';': { first: ';', sep: ';', named: true, ifEmpty: '', reserved: false },
  '?': { first: '?', sep: '&', named: true, ifEmpty: '=', reserved: false },
  '&': { first: '&', sep: '&', named: true, ifEmpty: '=', reserved: false },
};
const RESERVED_FOR_FUTURE = '=,!@|';

// ---- encoding ----------------------------------------------------------------------------------------

// Per ASCII code: the character itself when it may stay, else its %XX triplet. Table-driven single pass,
// returning the input untouched when nothing needs encoding (the common case).
const HEX = '0123456789ABCDEF';
const triplet = (c: number) => `%${HEX[c >> 4]}${HEX[c & 15]}`;
const UNRESERVED_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const RESERVED_CHARS = ":/?#[]@!$&'()*+,;=";
const unreservedTable: string[] = [];
const reservedTable: string[] = [];
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  unreservedTable[c] = UNRESERVED_CHARS.includes(ch) ? ch : triplet(c);
  reservedTable[c] = UNRESERVED_CHARS.includes(ch) || RESERVED_CHARS.includes(ch) ? ch : triplet(c);
}

function utf8Escape(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    throw new UriTemplateError('A value is not well-formed Unicode text', -1);
  }
}

const isHexCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

function encodeWith(table: string[], keepTriplets: boolean, text: string): string {
  const length = text.length;
  let i = 0;
  // Fast path: scan while every character may stay as it is.
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || table[c]!.length !== 1) break;
  }
  if (i === length) return text;
  let out = text.slice(0, i);
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if (keepTriplets && c === 37 && isHexCode(text.charCodeAt(i + 1)) && isHexCode(text.charCodeAt(i + 2))) {
        out += text.slice(i, i + 3);
        i += 2;
      } else out += table[c];
      continue;
    }
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < length;
    out += utf8Escape(text.slice(i, pair ? i + 2 : i + 1));
    if (pair) i++;
  }
  return out;
}

/** Only unreserved characters stay; everything else is %-encoded as UTF-8 (including !'()*). */
const encodeUnreserved = (text: string) => encodeWith(unreservedTable, false, text);
/** Unreserved and reserved characters and existing %XX triplets stay; everything else is %-encoded. */
const encodeReserved = (text: string) => encodeWith(reservedTable, true, text);

/** Literal text of a template (RFC 6570 section 3.1): characters a URI may hold are copied, others encoded. */
const encodeLiteral = encodeReserved;

// ---- values ------------------------------------------------------------------------------------------

function scalarText(value: Scalar, name: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new UriTemplateError(`Variable "${name}" is an invalid date`, -1);
    return value.toISOString();
  }
  throw new UriTemplateError(`Variable "${name}" holds a nested object or list; only flat values can be expanded`, -1);
}

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date;

/** The first `length` code points (not UTF-16 units) of a string. */
function prefix(text: string, length: number): string {
  let units = 0;
  let points = 0;
  while (units < text.length && points < length) {
    const code = text.charCodeAt(units);
    units += code >= 0xd800 && code <= 0xdbff && units + 1 < text.length ? 2 : 1;
    points++;
  }
  return text.slice(0, units);
}

// ---- parsing -----------------------------------------------------------------------------------------

interface VarSpec {
  name: string;
  explode: boolean;
  maxLength: number;
}

const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*$/;
const TOKEN = /#([A-Z0-9_]+)#/y;

function parseExpression(body: string, at: number): { op: Operator; specs: VarSpec[] } {
  let opChar = body[0] ?? '';
  if (RESERVED_FOR_FUTURE.includes(opChar) && opChar !== '') {
    throw new UriTemplateError(`Operator "${opChar}" is reserved for future extensions`, at + 1);
  }
  const op = OPERATORS[opChar];
  let list = body;
  if (op && opChar !== '') list = body.slice(1);
  else opChar = '';
  if (list === '') throw new UriTemplateError('An expression needs at least one variable', at);
  let offset = at + 1 + opChar.length;
  const specs = list.split(',').map((raw) => {
    const position = offset;
    offset += raw.length + 1;
    let name = raw;
    let explode = false;
    let maxLength = 0;
    const colon = raw.indexOf(':');
    if (raw.endsWith('*')) {
      explode = true;
      name = raw.slice(0, -1);
    }
    if (colon >= 0) {
      if (explode) throw new UriTemplateError('A variable cannot have both a prefix and an explode modifier', position);
      name = raw.slice(0, colon);
      const digits = raw.slice(colon + 1);
      if (!/^[1-9][0-9]{0,3}$/.test(digits))
        throw new UriTemplateError('A prefix length must be 1 to 9999', position + colon + 1);
      maxLength = Number(digits);
    }
    if (!VARNAME.test(name)) throw new UriTemplateError(`"${raw}" is not a valid variable name`, position);
    return { name, explode, maxLength };
  });
  return { op: op ?? OPERATORS['']!, specs };
}

type Part = string | ((variables: TemplateVariables) => string);

function expandSpec(op: Operator, spec: VarSpec, value: TemplateValue): string | undefined {
  const encode = op.reserved ? encodeReserved : encodeUnreserved;
  if (typeof value === 'string' && !spec.maxLength) {
    if (!op.named) return encode(value);
    return value === '' ? spec.name + op.ifEmpty : `${spec.name}=${encode(value)}`;
  }
  if (value === undefined || value === null) return undefined;
  if (isScalar(value)) {
    let text = scalarText(value, spec.name);
    if (spec.maxLength) text = prefix(text, spec.maxLength);
    if (!op.named) return encode(text);
    return text === '' ? spec.name + op.ifEmpty : `${spec.name}=${encode(text)}`;
  }
  if (spec.maxLength)
    throw new UriTemplateError(`Variable "${spec.name}" is a list or map: a prefix applies only to text`, -1);
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    const items = value.map((item) => {
      if (!isScalar(item))
        throw new UriTemplateError(
          `Variable "${spec.name}" holds a nested object or list; only flat values can be expanded`,
          -1,
        );
      return encode(scalarText(item, spec.name));
    });
    if (!spec.explode) return op.named ? `${spec.name}=${items.join(',')}` : items.join(',');
    return op.named
      ? items.map((item) => (item === '' ? spec.name + op.ifEmpty : `${spec.name}=${item}`)).join(op.sep)
      : items.join(op.sep);
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter((e): e is [string, Scalar] => e[1] !== undefined && e[1] !== null);
    if (entries.length === 0) return undefined;
    const pairs = entries.map(([k, v]) => {
      if (!isScalar(v))
        throw new UriTemplateError(
          `Variable "${spec.name}" holds a nested object or list; only flat values can be expanded`,
          -1,
        );
      return [encode(k), encode(scalarText(v, spec.name))] as const;
    });
    if (!spec.explode) {
      const joined = pairs.map(([k, v]) => `${k},${v}`).join(',');
      return op.named ? `${spec.name}=${joined}` : joined;
    }
    return pairs.map(([k, v]) => (op.named && v === '' ? k + op.ifEmpty : `${k}=${v}`)).join(op.sep);
  }
  throw new UriTemplateError(`Variable "${spec.name}" has an unsupported type`, -1);
}

function compileExpression(op: Operator, specs: VarSpec[]): (variables: TemplateVariables) => string {
  if (specs.length === 1) {
    const spec = specs[0]!;
    return (variables) => {
      const out = expandSpec(op, spec, variables[spec.name]);
      return out === undefined ? '' : op.first + out;
    };
  }
  return (variables) => {
    let out = '';
    let any = false;
    for (const spec of specs) {
      const piece = expandSpec(op, spec, variables[spec.name]);
      if (piece === undefined) continue;
      out += any ? op.sep + piece : piece;
      any = true;
    }
    return any ? op.first + out : '';
  };
}

/** A #TOKEN# expands like {token}: percent-encoded; a list joins its values with "|" (the BC filter "or"). */
function compileToken(token: string): (variables: TemplateVariables) => string {
  return (variables) => {
    const value = lookupToken(variables, token);
    if (value === undefined || value === null) return '';
    if (Array.isArray(value)) return encodeUnreserved(value.map((v) => scalarText(v, token)).join('|'));
    if (isScalar(value)) return encodeUnreserved(scalarText(value, token));
    throw new UriTemplateError(
      `Placeholder #${token}# refers to a map; only text and lists can fill a placeholder`,
      -1,
    );
  };
}

/** Token lookup is case-insensitive on the variable name (#JOBNO# finds jobNo). */
function lookupToken(variables: TemplateVariables, token: string): TemplateValue {
  const direct = variables[token];
  if (direct !== undefined) return direct;
  for (const key in variables) if (key.toUpperCase() === token) return variables[key];
  return undefined;
}

export function compileUriTemplate(template: string): CompiledUriTemplate {
  if (typeof template !== 'string') throw new UriTemplateError('A template must be text', 0);
  const parts: Part[] = [];
  const variables: string[] = [];
  const tokens: string[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push(encodeLiteral(literal));
    literal = '';
  };
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch === '{') {
      const end = template.indexOf('}', i + 1);
      const nextOpen = template.indexOf('{', i + 1);
      if (end < 0 || (nextOpen >= 0 && nextOpen < end))
        throw new UriTemplateError('An expression is not closed with "}"', i);
      flush();
      const { op, specs } = parseExpression(template.slice(i + 1, end), i);
      for (const spec of specs) if (!variables.includes(spec.name)) variables.push(spec.name);
      parts.push(compileExpression(op, specs));
      i = end + 1;
      continue;
    }
    if (ch === '}') throw new UriTemplateError('A "}" without a matching "{"', i);
    if (ch === '#') {
      TOKEN.lastIndex = i;
      const match = TOKEN.exec(template);
      if (match) {
        flush();
        const token = match[1]!;
        if (!tokens.includes(token)) tokens.push(token);
        parts.push(compileToken(token));
        i += match[0].length;
        continue;
      }
    }
    const code = template.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) throw new UriTemplateError('Control characters are not allowed in a template', i);
    literal += ch;
    i++;
  }
  flush();
  const compiled = parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : undefined;
  return {
    template,
    variables,
    tokens,
    expand(values) {
      if (compiled !== undefined) return compiled;
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : part(values);
      return out;
    },
  };
}
