// The alert queries of infra/alerts.json run over sample Application Insights rows: each counts what it means to,
// split the way its notification should name the culprit (a connector, a source app, a queue), and fires only
// above its threshold. The metric rows are what the Azure Monitor exporter writes to customMetrics (valueSum,
// valueCount, valueMax per export, the attributes in customDimensions).
import { describe, expect, it } from 'vitest';
import alerts from '../../infra/alerts.json';
import { runKql } from '../support/kql';

const alert = (name: string) => {
  const found = alerts.find((a) => a.name === name);
  if (!found) throw new Error(`no alert ${name}`);
  return found as (typeof alerts)[number] & { split?: string };
};

/** Per value of the rule's split column (or '' for an unsplit rule): the number compared, and whether it fires. */
function evaluate(name: string, tables: Record<string, Array<Record<string, unknown>>>) {
  const a = alert(name);
  const rows = runKql(a.query, { customMetrics: [], traces: [], requests: [], ...tables });
  return Object.fromEntries(
    rows.map((row) => {
      const value = Number(row.value ?? 0);
      return [a.split ? String(row[a.split]) : '', { value, fires: value > a.threshold }];
    }),
  );
}

const metric = (name: string, value: number, dimensions: Record<string, string>) => ({
  name,
  valueSum: value,
  valueCount: 1,
  valueMax: value,
  customDimensions: dimensions,
});
const deliveries = (outcome: string, value: number, connector = { id: 'c-1', name: 'Cronus' }, sourceApp = 'BC') =>
  metric('connector.deliveries', value, {
    outcome,
    'connector.id': connector.id,
    'connector.name': connector.name,
    back_office: 'bc-online',
    source_app: sourceApp,
  });

describe('alert queries', () => {
  it('deliveries-failed fires per connector, naming it, on failed deliveries only', () => {
    const other = { id: 'c-2', name: 'Fabrikam' };
    const rows = [
      deliveries('failed', 3),
      deliveries('failed', 1),
      deliveries('delivered', 50),
      deliveries('delivered', 20, other),
      deliveries('retrying', 9, other),
    ];
    expect(evaluate('deliveries-failed', { customMetrics: rows })).toEqual({
      'Cronus (c-1)': { value: 4, fires: true },
    });
    expect(evaluate('deliveries-failed', { customMetrics: [deliveries('delivered', 50)] })).toEqual({});
  });

  it('no-connector-burst fires per source app above 10 changes', () => {
    const none = (value: number, sourceApp: string) =>
      metric('connector.deliveries', value, { outcome: 'no-connector', source_app: sourceApp });
    const rows = [none(6, 'TYPO'), none(6, 'TYPO'), none(10, 'QUIET'), deliveries('delivered', 100)];
    expect(evaluate('no-connector-burst', { customMetrics: rows })).toEqual({
      TYPO: { value: 12, fires: true },
      QUIET: { value: 10, fires: false },
    });
  });

  it('credentials-expiring fires per connector whose secret is expiring or expired, not for one that is fine', () => {
    const days = (value: number, status: string, id: string) =>
      metric('connector.credential.days_left', value, { 'connector.id': id, 'connector.name': id, status });
    const rows = [days(12, 'expiring', 'a'), days(-3, 'expired', 'b'), days(200, 'ok', 'c')];
    expect(evaluate('credentials-expiring', { customMetrics: rows })).toEqual({
      'a (a)': { value: 1, fires: true },
      'b (b)': { value: 1, fires: true },
    });
  });

  it('backoffice-throttling fires per connector above 50 answers of 429', () => {
    const throttled = (value: number, id: string) =>
      metric('backoffice.throttled', value, { 'connector.id': id, back_office: 'bc-online' });
    const rows = [throttled(30, 'a'), throttled(30, 'a'), throttled(50, 'b')];
    expect(evaluate('backoffice-throttling', { customMetrics: rows })).toEqual({
      a: { value: 60, fires: true },
      b: { value: 50, fires: false },
    });
  });

  it('sync-backlog fires per queue when its oldest change waited more than 15 minutes', () => {
    const age = (value: number, queue: string) => metric('sync.queue.oldest_age', value, { queue });
    const rows = [age(120, 'changes'), age(901, 'changes'), age(30, 'retries')];
    expect(evaluate('sync-backlog', { customMetrics: rows })).toEqual({
      changes: { value: 901, fires: true },
      retries: { value: 30, fires: false },
    });
  });

  it("poison-queue-moves matches the host's line about moving a message to a poison queue", () => {
    const moved = {
      message: "Message has reached MaxDequeueCount of 5. Moving message to queue 'appointments-poison'.",
      itemCount: 2,
    };
    const other = { message: "Executed 'Functions.appointmentChanged' (Failed, Id=1)", itemCount: 1 };
    expect(evaluate('poison-queue-moves', { traces: [moved, other] })).toEqual({ '': { value: 2, fires: true } });
    expect(evaluate('poison-queue-moves', { traces: [other] })).toEqual({ '': { value: 0, fires: false } });
  });

  it('function-failure-rate fires above 10 % of at least 20 invocations, weighing sampled requests', () => {
    const request = (success: boolean, itemCount = 1) => ({ success, itemCount });
    const some = [...Array.from({ length: 17 }, () => request(true)), request(false), request(false), request(false)];
    expect(evaluate('function-failure-rate', { requests: some })).toEqual({ '': { value: 15, fires: true } });
    const tooFew = [request(true), request(false)];
    expect(evaluate('function-failure-rate', { requests: tooFew })).toEqual({ '': { value: 0, fires: false } });
    // 20 rows, but they stand for 100 invocations of which 5 failed: 5 %.
    const sampled = [...Array.from({ length: 19 }, () => request(true, 5)), request(false, 5)];
    expect(evaluate('function-failure-rate', { requests: sampled })).toEqual({ '': { value: 5, fires: false } });
  });

  it('every rule is on the metrics or the host, none parses the service log lines', () => {
    expect(alerts.filter((a) => a.query.includes('parse_json') || a.query.includes('delivery.outcome'))).toEqual([]);
  });
});
