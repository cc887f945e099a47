// RFC 6570 conformance: all 270 cases of the public suite, vendored in test/fixtures/uritemplate-test/.
import { describe, expect, it } from 'vitest';
import { compileUriTemplate, type TemplateVariables, UriTemplateError } from '../../src/actionUris/uriTemplate';
import { loadSuite } from '../support/uriTemplateSuite';

const cases = loadSuite();

describe('RFC 6570 conformance suite', () => {
  it('has all 270 cases', () => {
    expect(cases).toHaveLength(270);
  });

  it.each(cases)('$name', ({ template, expected, variables }) => {
    const expand = () => compileUriTemplate(template).expand(variables as TemplateVariables);
    if (expected === false) {
      expect(expand).toThrow(UriTemplateError);
      return;
    }
    if (Array.isArray(expected)) expect(expected).toContain(expand());
    else expect(expand()).toBe(expected);
  });
});
