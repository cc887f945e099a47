// The RFC 6570 conformance suite vendored in test/fixtures/uritemplate-test (Apache-2.0; see its README).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type SuiteValue = string | number | null | string[] | Record<string, string>;
export type SuiteVariables = Record<string, SuiteValue>;

export interface SuiteCase {
  name: string;
  template: string;
  /** A string to match exactly, any one of a list, or false: the template is invalid. */
  expected: string | string[] | false;
  variables: SuiteVariables;
}

/** The repository root: the nearest folder up with a package.json (compiled into dist-bench/ too, for the bench). */
function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

const suiteDir = join(repoRoot(__dirname), 'test', 'fixtures', 'uritemplate-test');
export const suiteFiles = [
  'spec-examples.json',
  'spec-examples-by-section.json',
  'extended-tests.json',
  'negative-tests.json',
];

type Group = { variables: SuiteVariables; testcases: Array<[string, string | string[] | false]> };

export function loadSuite(): SuiteCase[] {
  return suiteFiles.flatMap((file) => {
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
}

/** Whether an expansion function passes one case: the right text, or an error for an invalid template. */
export function passes(expand: (template: string, variables: SuiteVariables) => string, c: SuiteCase): boolean {
  let result: string;
  try {
    result = expand(c.template, c.variables);
  } catch {
    return c.expected === false;
  }
  if (c.expected === false) return false;
  return Array.isArray(c.expected) ? c.expected.includes(result) : result === c.expected;
}
