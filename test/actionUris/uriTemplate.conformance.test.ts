// RFC 6570 conformance: all 270 cases of the public suite, read from ../shared/conformance/uritemplate-test/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileUriTemplate, type TemplateVariables, UriTemplateError } from '../../src/actionUris/uriTemplate';
import { repoRoot } from '../support/testApp';

const suiteDir = join(repoRoot, '..', 'shared', 'conformance', 'uritemplate-test');
const files = ['spec-examples.json', 'spec-examples-by-section.json', 'extended-tests.json', 'negative-tests.json'];

type Group = { variables: TemplateVariables; testcases: Array<[string, string | string[] | false]> };

const cases = files.flatMap((file) => {
  const groups = JSON.parse(readFileSync(join(suiteDir, file), 'utf8')) as Record<string, Group>;
  return Object.entries(groups).flatMap(([group, { variables, testcases }]) =>
    testcases.map(([template, expected], i) => ({
      name: `${file} / ${group} #${i + 1}: ${template}`,
      template,
      expected,
      variables,
    })),
  );
});

describe('RFC 6570 conformance suite', () => {
  it('has all 270 cases', () => {
    expect(cases).toHaveLength(270);
  });

  it.each(cases)('$name', ({ template, expected, variables }) => {
    if (expected === false) {
      expect(() => compileUriTemplate(template).expand(variables)).toThrow(UriTemplateError);
      return;
    }
    const result = compileUriTemplate(template).expand(variables);
    if (Array.isArray(expected)) expect(expected).toContain(result);
    else expect(result).toBe(expected);
  });
});
