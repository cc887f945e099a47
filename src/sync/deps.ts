// What the sync's use cases work with, wired by the composition root.
import type { z } from 'zod';
import type { AuditTrail } from '../audit/auditTrail';
import type { StoredConnector } from '../model/connector';
import type { Logger } from '../platform/logging';
import { boundaryParse } from '../platform/validation';
import type { SyncQueues } from '../queues/syncQueues';
import type { LatestRevisionStore } from '../stores/latestRevisionStore';
import type { ConnectorsOf } from './connectorCache';
import type { DeliveryLog } from './deliveryLog';
import type { Dispatch } from './dispatch';
import type { RetryPolicy } from './retryPolicy';
import type { Settler } from './settle';

export interface SyncDeps {
  /** The connectors routed to a source app (cached for a few seconds). */
  connectorsOf: ConnectorsOf<StoredConnector[]>;
  connectorById(id: string): Promise<StoredConnector | undefined>;
  deliveries: DeliveryLog;
  latest: LatestRevisionStore;
  queues: SyncQueues;
  audit: AuditTrail;
  settle: Settler;
  policy: RetryPolicy;
  /** Sends a change to a connector, gathered with others for it; resolves when its row is written (dispatch.ts). */
  dispatch: Dispatch;
  now(): number;
}

/** A zod failure as one line naming the fields: "appointment.start: must be ...; revision: ...". */
export const describeIssues = (issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>) =>
  issues
    .slice(0, 10)
    .map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`)
    .join('; ');

/**
 * The message read with its schema; a message that does not match is recorded once as `sync.malformed`,
 * naming the failing fields, and undefined is returned: it is never retried.
 */
export async function readOrRecord<S extends z.ZodType>(
  deps: Pick<SyncDeps, 'deliveries'>,
  schema: S,
  message: { value: unknown; text: string; traceId: string | null; unreadable?: string },
  log: Logger,
): Promise<z.output<S> | undefined> {
  const parsed = schema.safeParse(message.value, boundaryParse);
  if (parsed.success) return parsed.data;
  const reason = message.unreadable ?? describeIssues(parsed.error.issues);
  await deps.deliveries.recordUnreadable(message.text, reason, log, 'sync.malformed', message.traceId);
  return undefined;
}
