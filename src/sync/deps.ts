// What the sync's use cases work with, wired by the composition root.
import type { AuditTrail } from '../audit/auditTrail';
import type { StoredConnector } from '../model/connector';
import type { SyncQueues } from '../queues/syncQueues';
import type { LatestRevisionStore } from '../stores/latestRevisionStore';
import type { DeliveryLog } from './deliveryLog';
import type { PendingDelivery } from './pending';
import type { RetryPolicy } from './retryPolicy';
import type { Settler } from './settle';

export interface SyncDeps {
  /** The connectors routed to a source app (cached for a few seconds). */
  connectorsOf(sourceApp: string): Promise<StoredConnector[]>;
  connectorById(id: string): Promise<StoredConnector | undefined>;
  deliveries: DeliveryLog;
  latest: LatestRevisionStore;
  queues: SyncQueues;
  audit: AuditTrail;
  settle: Settler;
  policy: RetryPolicy;
  /** Sends a change to a connector, gathered with others for it; resolves when its row is written. */
  dispatch(p: PendingDelivery): Promise<void>;
  now(): number;
}

/** A zod failure as one line naming the fields: "appointment.start: must be ...; revision: ...". */
export const describeIssues = (issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>) =>
  issues
    .slice(0, 10)
    .map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`)
    .join('; ');
