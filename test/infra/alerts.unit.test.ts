// The alert queries of infra/alerts.json run over sample Application Insights rows: each counts what it means
// to (the sync's own log lines, by status), and counts a sampled row as the itemCount rows it stands for.
import { describe, expect, it } from 'vitest';
import alerts from '../../infra/alerts.json';
import { runKql } from '../support/kql';

const alert = (name: string) => {
  const found = alerts.find((a) => a.name === name);
  if (!found) throw new Error(`no alert ${name}`);
  return found;
};

/** The number the rule compares with its threshold, and whether it fires. */
function evaluate(name: string, tables: Record<string, Array<Record<string, unknown>>>) {
  const a = alert(name);
  const [row] = runKql(a.query, { traces: [], requests: [], ...tables });
  const value = Number(row?.value ?? 0);
  return { value, fires: value > a.threshold };
}

const outcome = (status: string, itemCount = 1) => ({
  message: `delivery.outcome {"deliveryId":"d","connectorId":"c","status":"${status}","code":"x"}`,
  itemCount,
});
const attempt = (outcome: string, itemCount = 1) => ({
  message: `delivery.attempt {"connectorId":"c","outcome":"${outcome}","status":"failed","code":"x"}`,
  itemCount,
});

describe('alert queries', () => {
  it('deliveries-failed counts failed outcomes, sampled ones at their itemCount, and nothing else', () => {
    const traces = [outcome('failed', 4), outcome('delivered', 50), outcome('retrying', 9), attempt('permanent', 3)];
    expect(evaluate('deliveries-failed', { traces })).toEqual({ value: 4, fires: true });
    expect(evaluate('deliveries-failed', { traces: [outcome('delivered', 50)] })).toEqual({ value: 0, fires: false });
  });

  it('no-connector-burst fires on more than 10, counting sampled rows in full', () => {
    // Three sampled rows standing for 12 changes: a count of rows (3) would miss the burst.
    const burst = [outcome('no-connector', 4), outcome('no-connector', 4), outcome('no-connector', 4)];
    expect(evaluate('no-connector-burst', { traces: burst })).toEqual({ value: 12, fires: true });
    const few = Array.from({ length: 10 }, () => outcome('no-connector'));
    expect(evaluate('no-connector-burst', { traces: few })).toEqual({ value: 10, fires: false });
  });

  it("poison-queue-moves matches the host's line about moving a message to a poison queue", () => {
    const moved = {
      message: "Message has reached MaxDequeueCount of 5. Moving message to queue 'appointments-poison'.",
      itemCount: 2,
    };
    const other = { message: "Executed 'Functions.appointmentChanged' (Failed, Id=1)", itemCount: 1 };
    expect(evaluate('poison-queue-moves', { traces: [moved, other] })).toEqual({ value: 2, fires: true });
    expect(evaluate('poison-queue-moves', { traces: [other] }).fires).toBe(false);
  });

  it('function-failure-rate fires above 10 % of at least 20 invocations, weighing sampled requests', () => {
    const request = (success: boolean, itemCount = 1) => ({ success, itemCount });
    const some = [...Array.from({ length: 17 }, () => request(true)), request(false), request(false), request(false)];
    expect(evaluate('function-failure-rate', { requests: some })).toEqual({ value: 15, fires: true });
    const tooFew = [request(true), request(false)];
    expect(evaluate('function-failure-rate', { requests: tooFew })).toEqual({ value: 0, fires: false });
    // 19 rows, but they stand for 100 invocations of which 5 failed: 5 %.
    const sampled = [...Array.from({ length: 18 }, () => request(true, 5)), request(true, 5), request(false, 5)];
    expect(evaluate('function-failure-rate', { requests: sampled })).toEqual({ value: 5, fires: false });
  });

  it("credentials-expiring fires on the daily check's warning line", () => {
    const warning = {
      message: 'credentials.expiring {"connectorId":"c","status":"expiring","daysLeft":12}',
      itemCount: 1,
    };
    expect(evaluate('credentials-expiring', { traces: [warning] })).toEqual({ value: 1, fires: true });
    const checked = { message: 'credentials.checked {"warned":0}', itemCount: 1 };
    expect(evaluate('credentials-expiring', { traces: [checked] }).fires).toBe(false);
  });
});
