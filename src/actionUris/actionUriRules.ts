// The rules a definition must keep to be saved: a template that compiles, placeholders and variables that are
// fields of its URI type's records, and a scheme from the allow-list.
import { type ActionUriInput, fieldsFor } from '../model/actionUri';
import { type FieldError, ValidationError } from '../platform/errors';
import { type CompiledUriTemplate, compileUriTemplate, UriTemplateError } from './uriTemplate';

/** Schemes that can run code in a browser: refused even if someone lists them. */
const NEVER = new Set(['javascript', 'data', 'vbscript', 'file', 'blob', 'about']);

export const allowedSchemes = (configured: string[]) =>
  new Set(configured.map((s) => s.toLowerCase()).filter((s) => !NEVER.has(s)));

/** Checks a definition; throws one ValidationError naming every problem. */
export function checkDefinition(input: ActionUriInput, allowed: Set<string>): CompiledUriTemplate {
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
  else if (!allowed.has(scheme))
    errors.push({
      path: 'template',
      code: 'scheme-not-allowed',
      message: `the scheme "${scheme}" is not allowed; allowed: ${[...allowed].join(', ')}`,
    });
  if (compiled) {
    const fields = fieldsFor(input.uriType);
    const upper = new Set(fields.map((f) => f.toUpperCase()));
    const known = `(fields: ${fields.join(', ')})`;
    for (const token of compiled.tokens.filter((t) => !upper.has(t)))
      errors.push({
        path: 'template',
        code: 'unknown-placeholder',
        message: `#${token}# is not a field of a ${input.uriType} record ${known}`,
      });
    for (const variable of compiled.variables.filter((v) => !fields.includes(v)))
      errors.push({
        path: 'template',
        code: 'unknown-variable',
        message: `{${variable}} is not a field of a ${input.uriType} record ${known}`,
      });
  }
  if (errors.length) throw new ValidationError('The action URI is not valid.', errors);
  return compiled!;
}
