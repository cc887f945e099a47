// What the delivery log tells the metrics: a row that settles (any status but retrying, and not the status it
// had) counts once in connector.deliveries, and its latency since the change was queued joins the histogram.
// The span of the delivery gets the row's status and code whenever its row is written, so traces and metrics
// say one thing.
import { instruments, trace } from '../platform/telemetry';
import type { RowListener } from './deliveryLog';

export function deliveryMetrics(now: () => number): RowListener {
  return ({ row, previous, backOffice, enqueuedAt }) => {
    trace.getActiveSpan()?.setAttributes({ outcome: row.status, ...(row.code ? { 'delivery.code': row.code } : {}) });
    if (row.status === 'retrying' || row.status === previous) return;
    const attributes = {
      outcome: row.status,
      ...(row.connectorId ? { 'connector.id': row.connectorId } : {}),
      ...(row.connectorName !== null ? { 'connector.name': row.connectorName } : {}),
      ...(backOffice ? { back_office: backOffice } : {}),
    };
    const { deliveries, deliveryLatency } = instruments();
    deliveries.add(1, { ...attributes, ...(row.sourceApp !== null ? { source_app: row.sourceApp } : {}) });
    const latencyMs = Math.max(0, now() - (enqueuedAt ?? Date.parse(row.createdAt)));
    deliveryLatency.record(latencyMs, attributes);
    // Application Insights keeps no histogram buckets: percentiles come from the spans.
    trace.getActiveSpan()?.setAttribute('delivery.latency_ms', latencyMs);
  };
}
