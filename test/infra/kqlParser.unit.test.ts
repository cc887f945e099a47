// Every query the operators' view runs, parsed and analysed by the real Kusto parser against the Application
// Insights tables: the alert rules (infra/alerts.json) and every workbook query and parameter query
// (infra/workbook.json), with the workbook's parameters as the portal fills them in.
import { describe, expect, it } from 'vitest';
import alerts from '../../infra/alerts.json';
import workbook from '../../infra/workbook.json';
import { kqlErrors } from '../support/kustoParser';

/** What the portal puts in for a parameter: "All" is `*`; a picked source app or connector is a plain string. */
const filledIn = (query: string, values: Record<string, string>) =>
  query.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);

type Item = { name: string; content: { query?: string; parameters?: Array<{ name: string; query?: string }> } };
const queries: Array<[string, string]> = (workbook.items as Item[]).flatMap((item) => [
  ...(item.content.query ? [[`workbook ${item.name}`, item.content.query] as [string, string]] : []),
  ...(item.content.parameters ?? []).flatMap((p) =>
    p.query ? [[`parameter ${p.name}`, p.query] as [string, string]] : [],
  ),
]);

describe('the Kusto parser', () => {
  it('finds the mistakes it is meant to find (an unknown column, a misspelt table)', () => {
    expect(kqlErrors('customMetrics | where nmae == "x"')).toHaveLength(1);
    expect(kqlErrors('customMetric | take 1')).toHaveLength(1);
    expect(kqlErrors('customMetrics | summarize sum(valueSum) by tostring(customDimensions.outcome)')).toEqual([]);
  });

  it.each(alerts.map((a) => [a.name, a.query]))('alert %s parses with no errors', (_name, query) => {
    expect(kqlErrors(query)).toEqual([]);
  });

  it('reads the workbook queries: tiles, the connector table, charts, failures, parameters', () => {
    expect(queries.map(([name]) => name)).toEqual([
      'parameter SourceApp',
      'parameter Connector',
      'workbook tiles',
      'workbook connectors',
      'workbook outcomes',
      'workbook latency',
      'workbook pressure',
      'workbook backlog',
      'workbook failures',
    ]);
  });

  it.each(queries)('%s parses with no errors, for All and for one pick', (_name, query) => {
    expect(kqlErrors(filledIn(query, { SourceApp: '*', Connector: '*' }))).toEqual([]);
    expect(
      kqlErrors(filledIn(query, { SourceApp: 'BCCRONUSUS', Connector: '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11' })),
    ).toEqual([]);
  });

  it('leaves no placeholder the workbook does not define', () => {
    const defined = new Set(['SourceApp', 'Connector']);
    const used = queries.flatMap(([, q]) => [...q.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!));
    expect(used.filter((name) => !defined.has(name))).toEqual([]);
  });
});
