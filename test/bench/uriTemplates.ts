// Our URI template engine beside the popular npm libraries, on the same templates and values:
// compile once then expand many, and parse + expand each time. ns/op, best of several rounds.
import { StdUriTemplate } from '@std-uritemplate/std-uritemplate';
import { compileUriTemplate, type TemplateVariables } from '../../src/actionUris/uriTemplate';
import { loadSuite, passes, type SuiteVariables } from '../support/uriTemplateSuite';
import { printTable } from './report';

// biome-ignore lint/suspicious/noExplicitAny: loaded with require (its types are ESM-only)
const { parseTemplate } = require('url-template') as any;
// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS peers
const uriTemplates = require('uri-templates') as any;
// biome-ignore lint/suspicious/noExplicitAny: untyped CommonJS peers
const uritemplate = require('uritemplate') as any;

const template =
  'https://businesscentral.dynamics.com/{tenant}/{env}/?company={company}&page=5900{&filter,mode}#{fragment}';
const variables = {
  tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  env: 'Production',
  company: 'CRONUS International Ltd.',
  filter: "'No.' IS 'SO-1001'",
  mode: 'View',
  fragment: 'lines',
};

/** Compiled expansions per round (five rounds, the best counts); parse + expand runs a quarter as many. */
const ITERATIONS = Number(process.env.BENCH_URI_ITERATIONS ?? 200_000);

function nsPerOp(run: () => unknown, iterations = ITERATIONS): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / iterations);
  }
  return best;
}

export function benchUriTemplates(): void {
  const ours = compileUriTemplate(template);
  type Peer = [string, () => () => string, () => string, (t: string, v: SuiteVariables) => string];
  const peers: Peer[] = [
    [
      'ours (compileUriTemplate)',
      () => () => ours.expand(variables),
      () => compileUriTemplate(template).expand(variables),
      (t, v) => compileUriTemplate(t).expand(v as TemplateVariables),
    ],
    [
      'url-template 3.1.1',
      () => {
        const t = parseTemplate(template);
        return () => t.expand(variables);
      },
      () => parseTemplate(template).expand(variables),
      (t, v) => parseTemplate(t).expand(v),
    ],
    [
      'uri-templates 0.2.0',
      () => {
        const t = uriTemplates(template);
        return () => t.fill(variables);
      },
      () => uriTemplates(template).fill(variables),
      (t, v) => uriTemplates(t).fill(v),
    ],
    [
      'uritemplate 0.3.4',
      () => {
        const t = uritemplate.parse(template);
        return () => t.expand(variables);
      },
      () => uritemplate.parse(template).expand(variables),
      (t, v) => uritemplate.parse(t).expand(v),
    ],
    [
      '@std-uritemplate 2.0.12',
      () => () => StdUriTemplate.expand(template, variables),
      () => StdUriTemplate.expand(template, variables),
      (t, v) => StdUriTemplate.expand(t, v as never),
    ],
  ];
  const suite = loadSuite();
  const expected = ours.expand(variables);
  const rows = peers.map(([name, compiled, once, expandCase]) => {
    const expandMany = compiled();
    const same = expandMany() === expected ? '' : ' (differs)';
    const conformance = suite.filter((c) => passes(expandCase, c)).length;
    return [
      name + same,
      nsPerOp(expandMany).toFixed(0),
      nsPerOp(once, Math.ceil(ITERATIONS / 4)).toFixed(0),
      `${conformance}/${suite.length}`,
    ];
  });
  printTable(
    `URI templates: ${template}`,
    ['library', 'compiled expand ns/op', 'parse+expand ns/op', 'RFC 6570 suite'],
    rows,
  );
}
