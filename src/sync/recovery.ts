// Use cases: recover (send a connector again what its delivery log says failed) and resync (send it the latest
// revision of every appointment of its source app). The story of a recovery:
//   asked for (HTTP): the connector exists -> the recovery's header -> its first page on the recoveries queue
//   -> 202 with the recovery's id
//   each page (queue): a copy of a page already done is dropped -> a page of the source (matching delivery rows,
//   or latest revisions) -> mark its changes queued -> queue each to the connector as a delivery of this
//   recovery -> queue the next page -> record the page done (the last one completes it, audited with the count)
//   each change then goes through the sync like any delivery (claims, budget, ordering); its marker takes the
//   status it settles with
//   progress (HTTP): the header and the markers counted
// Work never runs inside the HTTP request, and no invocation reads more than one page.
import { randomUUID } from 'node:crypto';
import { auditing } from '../audit/auditTrail';
import type { AppointmentChange } from '../model/appointmentChange';
import type { CallContext } from '../model/audit';
import type { StoredConnector } from '../model/connector';
import { deliveryId } from '../model/pushBody';
import {
  type RecoverRequest,
  type Recovery,
  type RecoveryHeader,
  type RecoveryKind,
  type ResyncRequest,
  recoveryPageSchema,
} from '../model/recovery';
import { ConflictError, NotFoundError } from '../platform/errors';
import type { Logger } from '../platform/logging';
import type { MarkerStatus, RecoveryStore } from '../stores/recoveryStore';
import { readOrRecord, type SyncDeps } from './deps';
import type { QueueMessage } from './handleChange';
import { parseKept } from './replay';

/** Rows (or appointments) read and queued per invocation. */
const PAGE_SIZE = 200;

export interface RecoveryDeps
  extends Pick<SyncDeps, 'connectorById' | 'deliveries' | 'latest' | 'queues' | 'audit' | 'now'> {
  recoveries: RecoveryStore;
  newId?: () => string;
}

export function startRecovery(
  deps: RecoveryDeps,
  kind: RecoveryKind,
  connectorId: string,
  criteria: RecoverRequest | ResyncRequest,
  call: CallContext,
  log: Logger,
): Promise<Recovery> {
  return auditing(
    deps.audit,
    call,
    log,
    {
      operation: kind === 'recover' ? 'connector.recover' : 'connector.resync',
      resourceType: 'connector',
      resourceId: connectorId,
    },
    async () => {
      if (!(await deps.connectorById(connectorId))) throw new NotFoundError(`Connector ${connectorId} does not exist.`);
      const header: RecoveryHeader = {
        id: (deps.newId ?? randomUUID)(),
        kind,
        connectorId,
        criteria,
        requestedBy: call.actor,
        correlationId: call.correlationId,
        createdAt: new Date(deps.now()).toISOString(),
        pagesDone: 0,
        queued: 0,
        scanComplete: false,
        completedScanAt: null,
      };
      // The header first, so the connector's active recovery always names one that exists.
      await deps.recoveries.create(header);
      try {
        await becomeActive(deps, connectorId, header.id);
      } catch (error) {
        await deps.recoveries.remove(header.id).catch(() => undefined); // never started: nothing refers to it
        throw error;
      }
      await deps.queues.sendRecoveryPage({ kind: 'recovery-page', recoveryId: header.id, page: 0, token: null });
      log.info('recovery.started', { recoveryId: header.id, kind, connectorId });
      return { value: progressOf(header, {}), resourceId: connectorId, detail: `recovery ${header.id} started` };
    },
  );
}

/** A second recover or resync while one runs for the connector: it would send the same changes again. */
export class RecoveryRunningError extends ConflictError {
  override readonly headers: Record<string, string>;
  constructor(
    connectorId: string,
    readonly recoveryId: string,
  ) {
    super(
      `A recover or resync of connector ${connectorId} is running (recovery ${recoveryId}): follow it at the Location, and start another once it is done.`,
      'recovery-running',
    );
    this.headers = { location: `/api/recoveries/${recoveryId}` };
  }
}

/**
 * One active recovery per connector: the connector's row names it. A recovery that is done (or gone) gives way;
 * two requests racing for it are settled by the row's ETag.
 */
async function becomeActive(deps: RecoveryDeps, connectorId: string, recoveryId: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const active = await deps.recoveries.activeOf(connectorId);
    if (active) {
      const running = await deps.recoveries.get(active.recoveryId);
      if (running && !progressOf(running, await deps.recoveries.tally(running.id)).done)
        throw new RecoveryRunningError(connectorId, running.id);
    }
    if (await deps.recoveries.setActive(connectorId, recoveryId, active?.etag)) return;
  }
  throw new ConflictError(`Recoveries of connector ${connectorId} are being started at once; try again.`, 'conflict');
}

export async function handleRecoveryPage(deps: RecoveryDeps, message: QueueMessage, log: Logger): Promise<void> {
  const page = await readOrRecord(deps, recoveryPageSchema, message, log);
  if (!page) return;
  const header = await deps.recoveries.get(page.recoveryId);
  // Unknown (purged), or a copy of a page another invocation already did.
  if (!header || header.pagesDone > page.page) return;
  const pageLog = log.child({ recoveryId: header.id, page: page.page });
  const connector = await deps.connectorById(header.connectorId);
  const { changes, token } = connector
    ? await readSource(deps, header, connector, page.token)
    : { changes: [], token: null }; // deleted meanwhile: the recovery ends with what it queued
  const ids = changes.map((c) => deliveryId(header.connectorId, c.appointment.appointmentGuid, c.revision));
  await deps.recoveries.markQueued(header.id, ids);
  for (let i = 0; i < changes.length; i += 10)
    await Promise.all(
      changes.slice(i, i + 10).map((change) =>
        deps.queues.sendWorkItem(
          {
            kind: 'delivery',
            connectorId: header.connectorId,
            change,
            attempt: 0,
            firstAttemptAt: deps.now(),
            mode: header.kind,
            recoveryId: header.id,
          },
          0,
        ),
      ),
    );
  if (token) await deps.queues.sendRecoveryPage({ ...page, page: page.page + 1, token, requeued: 0 });
  const done = await deps.recoveries.pageDone(
    header.id,
    { page: page.page, count: changes.length, last: !token },
    new Date(deps.now()).toISOString(),
  );
  pageLog.info('recovery.page-queued', { changes: changes.length, last: !token });
  if (done?.scanComplete)
    await deps.audit.record(
      { actor: done.requestedBy, correlationId: done.correlationId },
      {
        operation: done.kind === 'recover' ? 'connector.recover' : 'connector.resync',
        resourceType: 'connector',
        resourceId: done.connectorId,
        detail: `recovery ${done.id}: ${done.queued} changes queued${connector ? '' : ' (the connector was deleted)'}`,
      },
      pageLog,
    );
}

/** One page of what the recovery sends: delivery rows that match, or latest revisions of the source app. */
async function readSource(
  deps: RecoveryDeps,
  header: RecoveryHeader,
  connector: StoredConnector,
  token: string | null,
): Promise<{ changes: AppointmentChange[]; token: string | null }> {
  const page = { size: PAGE_SIZE, token: token ?? undefined };
  if (header.kind === 'recover') {
    const criteria = header.criteria as RecoverRequest;
    const rows = await deps.deliveries.list(
      {
        connectorId: connector.id,
        statuses: criteria.statuses,
        from: new Date(criteria.since),
        // Rows the recovery itself causes (a new failure) are not chased: nothing after it started.
        to: new Date(criteria.until ?? header.createdAt),
      },
      page,
    );
    return {
      changes: rows.items.flatMap((row) => {
        const change = parseKept(row.change);
        return change ? [change] : [];
      }),
      token: rows.continuationToken,
    };
  }
  const criteria = header.criteria as ResyncRequest;
  const latest = await deps.latest.page(
    connector.sourceApp,
    { sourceType: connector.sourceType, since: criteria.since ? new Date(criteria.since) : undefined },
    page,
  );
  return {
    changes: latest.items.filter((c) => criteria.includeDeleted || c.databaseAction !== 'D'),
    token: latest.continuationToken,
  };
}

export async function getRecovery(deps: RecoveryDeps, id: string): Promise<Recovery> {
  const header = await deps.recoveries.get(id);
  if (!header) throw new NotFoundError(`Recovery ${id} does not exist.`);
  return progressOf(header, await deps.recoveries.tally(id));
}

/** The progress a header and its markers add up to. */
export function progressOf(header: RecoveryHeader, counts: Partial<Record<MarkerStatus, number>>): Recovery {
  const n = (...statuses: MarkerStatus[]) => statuses.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const delivered = n('delivered', 'duplicate');
  const failed = n('failed');
  const skipped = n('stale', 'skipped-disabled', 'skipped-action', 'no-connector');
  const pending = n('queued', 'retrying');
  return {
    id: header.id,
    kind: header.kind,
    connectorId: header.connectorId,
    criteria: header.criteria,
    requestedBy: header.requestedBy,
    createdAt: header.createdAt,
    scanComplete: header.scanComplete,
    queued: delivered + failed + skipped + pending,
    sent: delivered + failed,
    delivered,
    failed,
    skipped,
    pending,
    done: header.scanComplete && pending === 0,
  };
}
