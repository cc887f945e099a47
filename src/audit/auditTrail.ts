// Use case: the audit trail. Every configuration change, connection test, replay and recovery is recorded with
// who asked, what changed (field names only) and how it ended. Recording never undoes the operation it
// describes: when storage refuses the row, the same account goes to the log as an error, so it is not lost.
import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditOperation, AuditResourceType, CallContext } from '../model/audit';
import type { Logger } from '../platform/logging';
import type { AuditFilter, AuditStore } from '../stores/auditStore';
import type { Page } from '../stores/tablePage';

export interface AuditRecord {
  operation: AuditOperation;
  resourceType: AuditResourceType;
  resourceId: string;
  changedFields?: string[];
  outcome?: AuditEntry['outcome'];
  detail?: string | null;
}

export interface AuditTrail {
  record(call: CallContext, what: AuditRecord, log: Logger): Promise<void>;
  list(filter: AuditFilter, page: { size: number; token?: string }): Promise<Page<AuditEntry>>;
  /** Removes entries older than the cutoff; returns how many. */
  purgeBefore(cutoffMs: number): Promise<number>;
}

export function createAuditTrail(deps: { store: AuditStore; retentionMs: number; now?: () => number }): AuditTrail {
  const now = deps.now ?? Date.now;
  return {
    async record(call, what, log) {
      const entry: AuditEntry = {
        id: randomUUID(),
        at: new Date(now()).toISOString(),
        actor: call.actor,
        operation: what.operation,
        resourceType: what.resourceType,
        resourceId: what.resourceId,
        changedFields: what.changedFields ?? [],
        outcome: what.outcome ?? 'succeeded',
        detail: what.detail ?? null,
        correlationId: call.correlationId,
      };
      try {
        await deps.store.append(entry);
        log.info('audit.recorded', { auditId: entry.id, operation: entry.operation, resourceId: entry.resourceId });
      } catch (error) {
        log.error('audit.write-failed', { entry, error });
      }
    },
    list: (filter, page) => deps.store.list(filter, page, now() - deps.retentionMs),
    purgeBefore: (cutoffMs) => deps.store.purgeBefore(cutoffMs),
  };
}

/** The names of the fields whose values differ between two versions of a resource. */
export function changedFields(before: Record<string, unknown> | undefined, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before?.[k] ?? null) !== JSON.stringify(after[k] ?? null)).sort();
}

export interface Audited<T> {
  value: T;
  resourceId: string;
  changedFields?: string[];
  detail?: string | null;
  outcome?: AuditEntry['outcome'];
}

/**
 * Runs an operation and records it: its own account when it succeeds, "failed" with the error's code when it
 * throws (the error is then rethrown unchanged).
 */
export async function auditing<T>(
  trail: AuditTrail,
  call: CallContext,
  log: Logger,
  what: { operation: AuditOperation; resourceType: AuditResourceType; resourceId?: string },
  run: () => Promise<Audited<T>>,
): Promise<T> {
  let done: Audited<T>;
  try {
    done = await run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    await trail.record(
      call,
      {
        ...what,
        resourceId: what.resourceId ?? '-',
        outcome: 'failed',
        detail: typeof code === 'string' ? code : 'error',
      },
      log,
    );
    throw error;
  }
  await trail.record(
    call,
    {
      ...what,
      resourceId: done.resourceId,
      changedFields: done.changedFields,
      detail: done.detail,
      outcome: done.outcome ?? 'succeeded',
    },
    log,
  );
  return done.value;
}
