// Action URI use cases: definitions validated at save (template, placeholders for the URI type, scheme),
// and rendering for one record or a multi-select. Compiled templates are cached by ETag, so a render costs
// one partition read and no parsing once a definition has been seen.
import { randomUUID } from 'node:crypto';
import { ConflictError, type FieldError, NotFoundError, ValidationError } from '../platform/errors';
import type { Versioned } from '../platform/etag';
import { ensureIfMatch } from '../platform/etag';
import { type Logger, silentLogger } from '../platform/logging';
import { parseWith } from '../platform/validation';
import type { ActionUriStore } from './actionUriStore';
import { type ActionUri, type ActionUriInput, fieldsFor, recordSchemaFor, type UriType } from './model';
import { type CompiledUriTemplate, compileUriTemplate, type TemplateValue, UriTemplateError } from './uriTemplate';

/** Schemes that can run code in a browser: refused even if someone lists them. */
const NEVER = new Set(['javascript', 'data', 'vbscript', 'file', 'blob', 'about']);

export interface ActionUriServiceDeps {
  store: ActionUriStore;
  allowedSchemes: string[];
  now?: () => Date;
}

export interface RenderedAction {
  id: string;
  description: string;
  isDefault: boolean;
  method: 'GET' | 'POST';
  uri: string;
  body?: unknown;
}

const sameText = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? '').toUpperCase() === (b ?? '').toUpperCase();

export function createActionUriService(deps: ActionUriServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const allowed = new Set(deps.allowedSchemes.map((s) => s.toLowerCase()).filter((s) => !NEVER.has(s)));
  const compiledCache = new Map<string, { etag: string; compiled: CompiledUriTemplate }>();

  function validate(input: ActionUriInput): CompiledUriTemplate {
    const errors: FieldError[] = [];
    let compiled: CompiledUriTemplate | undefined;
    try {
      compiled = compileUriTemplate(input.template);
    } catch (error) {
      if (!(error instanceof UriTemplateError)) throw error;
      errors.push({ path: 'template', code: 'invalid-template', message: error.message });
    }
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(input.template)?.[1]?.toLowerCase();
    if (!scheme)
      errors.push({
        path: 'template',
        code: 'scheme-required',
        message: 'must start with a literal scheme such as https:',
      });
    else if (!allowed.has(scheme)) {
      errors.push({
        path: 'template',
        code: 'scheme-not-allowed',
        message: `the scheme "${scheme}" is not allowed; allowed: ${[...allowed].join(', ')}`,
      });
    }
    if (compiled) {
      const fields = fieldsFor(input.uriType);
      const upper = new Set(fields.map((f) => f.toUpperCase()));
      const unknownTokens = compiled.tokens.filter((t) => !upper.has(t));
      const unknownVariables = compiled.variables.filter((v) => !fields.includes(v));
      for (const t of unknownTokens)
        errors.push({
          path: 'template',
          code: 'unknown-placeholder',
          message: `#${t}# is not a field of a ${input.uriType} record (fields: ${fields.join(', ')})`,
        });
      for (const v of unknownVariables)
        errors.push({
          path: 'template',
          code: 'unknown-variable',
          message: `{${v}} is not a field of a ${input.uriType} record (fields: ${fields.join(', ')})`,
        });
    }
    if (errors.length) throw new ValidationError('The action URI is not valid.', errors);
    return compiled!;
  }

  async function load(id: string): Promise<Versioned<ActionUri>> {
    const found = await deps.store.byId(id);
    if (!found) throw new NotFoundError(`Action URI ${id} does not exist.`);
    return found;
  }

  const inScope = (a: ActionUri, b: { sourceApp: string; sourceType: string | null; uriType: UriType }) =>
    sameText(a.sourceApp, b.sourceApp) && sameText(a.sourceType, b.sourceType) && a.uriType === b.uriType;

  async function checkSingleDefault(input: ActionUriInput, id: string) {
    if (!input.isDefault) return;
    const other = (await deps.store.inPartition(input.sourceApp)).find(
      (d) => d.value.id !== id && d.value.isDefault && inScope(d.value, input),
    );
    if (other) {
      throw new ConflictError(
        `Action URI ${other.value.id} is already the default for ${input.sourceApp}/${input.sourceType ?? '*'}/${input.uriType}; unset it first.`,
        'default-exists',
      );
    }
  }

  function compiledFor(definition: Versioned<ActionUri>): CompiledUriTemplate {
    const hit = compiledCache.get(definition.value.id);
    if (hit && hit.etag === definition.etag) return hit.compiled;
    const compiled = compileUriTemplate(definition.value.template);
    compiledCache.set(definition.value.id, { etag: definition.etag, compiled });
    return compiled;
  }

  /** Each field of the records: one value stays a value; several records give the distinct values in order. */
  function variablesOf(records: Array<Record<string, unknown>>): Record<string, TemplateValue> {
    const variables: Record<string, TemplateValue> = {};
    const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
    for (const key of keys) {
      const values: Array<string | number | boolean | Date> = [];
      const seen = new Set<string>();
      for (const record of records) {
        let value = record[key];
        if (value === undefined || value === null) continue;
        if (key === 'databaseAction') value = value === 'I' ? 'A' : value === 'U' ? 'E' : value;
        if ((key === 'start' || key === 'end') && typeof value === 'string') value = new Date(value);
        const identity = value instanceof Date ? value.toISOString() : String(value);
        if (seen.has(identity)) continue;
        seen.add(identity);
        values.push(value as string | number | boolean | Date);
      }
      if (values.length) variables[key] = values.length === 1 ? values[0] : values;
    }
    return variables;
  }

  return {
    async create(input: ActionUriInput, log: Logger = silentLogger): Promise<Versioned<ActionUri>> {
      validate(input);
      const id = randomUUID();
      await checkSingleDefault(input, id);
      const stamp = now().toISOString();
      const value: ActionUri = { ...input, id, createdAt: stamp, updatedAt: stamp };
      const etag = await deps.store.insert(value);
      log.info('action-uri.created', { actionUriId: id, sourceApp: value.sourceApp, uriType: value.uriType });
      return { value, etag };
    },
    get: load,
    list: (filter: { sourceApp?: string; sourceType?: string; uriType?: UriType }) =>
      deps.store
        .list({ sourceApp: filter.sourceApp })
        .then((items) =>
          items.filter(
            (a) =>
              (!filter.sourceType || sameText(a.sourceType, filter.sourceType)) &&
              (!filter.uriType || a.uriType === filter.uriType),
          ),
        ),
    async replace(
      id: string,
      input: ActionUriInput,
      ifMatch: string | undefined,
      log: Logger = silentLogger,
    ): Promise<Versioned<ActionUri>> {
      const existing = await load(id);
      ensureIfMatch(ifMatch, existing.etag, `Action URI ${id}`);
      validate(input);
      await checkSingleDefault(input, id);
      const value: ActionUri = { ...input, id, createdAt: existing.value.createdAt, updatedAt: now().toISOString() };
      // Conditional on the version read above (If-Match, when sent, was checked against it).
      const etag = await deps.store.replace(existing.value, value, existing.etag);
      compiledCache.delete(id);
      log.info('action-uri.replaced', { actionUriId: id });
      return { value, etag };
    },
    async remove(id: string, ifMatch: string | undefined, log: Logger = silentLogger): Promise<void> {
      const existing = await load(id);
      ensureIfMatch(ifMatch, existing.etag, `Action URI ${id}`);
      await deps.store.remove(existing.value, existing.etag);
      compiledCache.delete(id);
      log.info('action-uri.deleted', { actionUriId: id });
    },

    /** Definitions whose source app and source type match every record, rendered; defaults first. */
    async render(uriType: UriType, rawRecords: Array<Record<string, unknown>>): Promise<RenderedAction[]> {
      const schema = recordSchemaFor(uriType);
      const records = rawRecords.map(
        (r, i) => parseWith(schema, r, 'record', ['records', String(i)]) as Record<string, unknown>,
      );
      const sourceApps = new Set(records.map((r) => String(r.sourceApp).toUpperCase()));
      if (sourceApps.size !== 1) return []; // no definition can match records of several source apps
      const types = new Set(records.map((r) => String(r.sourceType ?? '').toUpperCase()));
      const definitions = (await deps.store.inPartition(String(records[0]!.sourceApp))).filter(
        (d) =>
          d.value.uriType === uriType &&
          (d.value.sourceType === null || (types.size === 1 && types.has(d.value.sourceType.toUpperCase()))),
      );
      const variables = variablesOf(records);
      return definitions
        .sort(
          (a, b) =>
            Number(b.value.isDefault) - Number(a.value.isDefault) ||
            a.value.description.localeCompare(b.value.description),
        )
        .map((d) => {
          let uri: string;
          try {
            uri = compiledFor(d).expand(variables);
          } catch (error) {
            if (!(error instanceof UriTemplateError)) throw error;
            throw new ValidationError('A record value cannot be rendered.', [
              { path: 'records', code: 'unrenderable', message: error.message },
            ]);
          }
          return {
            id: d.value.id,
            description: d.value.description,
            isDefault: d.value.isDefault,
            method: d.value.requestType,
            uri,
            ...(d.value.requestType === 'POST' ? { body: records.length === 1 ? records[0] : records } : {}),
          };
        });
    },
  };
}

export type ActionUriService = ReturnType<typeof createActionUriService>;
