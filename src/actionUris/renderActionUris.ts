// Use case: render the definitions that match a record, or several records (a map multi-select). One partition
// read; a compiled template is cached per definition and ETag, so nothing is parsed twice.
import type { ActionUri, RenderRequest } from '../model/actionUri';
import { caseKey } from '../model/text';
import { ValidationError } from '../platform/errors';
import type { Versioned } from '../platform/etag';
import type { ActionUriStore } from '../stores/actionUriStore';
import { type CompiledUriTemplate, compileUriTemplate, type TemplateValue, UriTemplateError } from './uriTemplate';

export interface RenderedAction {
  id: string;
  description: string;
  isDefault: boolean;
  method: 'GET' | 'POST';
  uri: string;
  body?: unknown;
}

/** `compile` is the template engine's; a test counts its calls. */
export function createRenderer(store: ActionUriStore, compile = compileUriTemplate) {
  const compiledCache = new Map<string, { etag: string; compiled: CompiledUriTemplate }>();

  function compiledFor(definition: Versioned<ActionUri>): CompiledUriTemplate {
    const hit = compiledCache.get(definition.value.id);
    if (hit && hit.etag === definition.etag) return hit.compiled;
    const compiled = compile(definition.value.template);
    compiledCache.set(definition.value.id, { etag: definition.etag, compiled });
    return compiled;
  }

  return {
    forget: (id: string) => compiledCache.delete(id),

    /** Definitions whose source app and source type match every record, rendered; defaults first. */
    async render({ uriType, records }: RenderRequest): Promise<RenderedAction[]> {
      const rows = records as Array<Record<string, unknown>>;
      const sourceApps = new Set(rows.map((r) => caseKey(String(r.sourceApp))));
      if (sourceApps.size !== 1) return []; // no definition can match records of several source apps
      const types = new Set(rows.map((r) => caseKey(String(r.sourceType ?? ''))));
      const definitions = (await store.inPartition(String(rows[0]!.sourceApp))).filter(
        (d) =>
          d.value.uriType === uriType &&
          (d.value.sourceType === null || (types.size === 1 && types.has(caseKey(d.value.sourceType)))),
      );
      const variables = variablesOf(rows);
      return definitions
        .sort(
          (a, b) =>
            Number(b.value.isDefault) - Number(a.value.isDefault) ||
            a.value.description.localeCompare(b.value.description),
        )
        .map((d) => ({
          id: d.value.id,
          description: d.value.description,
          isDefault: d.value.isDefault,
          method: d.value.requestType,
          uri: expand(compiledFor(d), variables),
          ...(d.value.requestType === 'POST' ? { body: rows.length === 1 ? rows[0] : rows } : {}),
        }));
    },
  };
}

function expand(compiled: CompiledUriTemplate, variables: Record<string, TemplateValue>): string {
  try {
    return compiled.expand(variables);
  } catch (error) {
    if (!(error instanceof UriTemplateError)) throw error;
    throw new ValidationError('A record value cannot be rendered.', [
      { path: 'records', code: 'unrenderable', message: error.message },
    ]);
  }
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
