// Ordering per (connector, appointment): the last delivered revision, and a claim (revision + lease) that
// keeps two revisions of one appointment from being in flight at once for one connector, across instances.
// Every write is ETag-guarded; a lease outlives a crashed instance by at most its length.
import type { TableClient } from '@azure/data-tables';
import { DependencyError, statusCodeOf } from '../platform/errors';

export type ClaimResult =
  | { kind: 'claimed'; release(delivered: boolean): Promise<void> }
  | { kind: 'stale'; lastDelivered: number }
  | { kind: 'busy'; inFlight: number };

export interface SyncState {
  claim(
    connectorId: string,
    appointmentGuid: string,
    revision: number,
    options: { allowEqual: boolean },
  ): Promise<ClaimResult>;
}

export function createSyncState(
  table: () => Promise<TableClient>,
  leaseMs = 120_000,
  now: () => number = Date.now,
): SyncState {
  const fail = (error: unknown): never => {
    throw new DependencyError('Table storage failed on the sync state.', 'storage-unavailable', { cause: error });
  };
  return {
    async claim(connectorId, appointmentGuid, revision, { allowEqual }) {
      const client = await table();
      const key = appointmentGuid.toLowerCase();
      // Most appointments are new to a connector: try to create the state row first (one round trip).
      let known: Record<string, unknown> | undefined;
      let tryCreate = true;
      for (let round = 0; round < 20; round++) {
        let etag: string | undefined;
        let last = -1;
        let inFlight: number | null = null;
        let leaseUntil = 0;
        if (!tryCreate) {
          try {
            known = await client.getEntity<Record<string, unknown>>(connectorId, key);
          } catch (error) {
            if (statusCodeOf(error) !== 404) fail(error);
            known = undefined;
          }
        }
        if (known) {
          etag = String(known.etag);
          last = Number(known.lastDelivered ?? -1);
          inFlight = known.inFlight === undefined || known.inFlight === null ? null : Number(known.inFlight);
          leaseUntil = Number(known.leaseUntil ?? 0);
        }
        tryCreate = false;
        if (revision < last || (revision === last && !allowEqual)) return { kind: 'stale', lastDelivered: last };
        const held = inFlight !== null && leaseUntil > now();
        if (held && inFlight !== revision) {
          // A newer revision in flight supersedes this one; an older one must finish first.
          if (inFlight! > revision) return { kind: 'stale', lastDelivered: last };
          return { kind: 'busy', inFlight: inFlight! };
        }
        const entity = {
          partitionKey: connectorId,
          rowKey: key,
          lastDelivered: last,
          inFlight: revision,
          leaseUntil: now() + leaseMs,
        };
        let claimedEtag: string | undefined;
        try {
          claimedEtag = etag
            ? (await client.updateEntity(entity, 'Replace', { etag })).etag
            : (await client.createEntity(entity)).etag;
        } catch (error) {
          if (statusCodeOf(error) === 412 || statusCodeOf(error) === 409) continue; // someone else moved first: look again
          fail(error);
        }
        return {
          kind: 'claimed',
          async release(delivered) {
            // Usually nobody touched the row since the claim: write with that ETag, re-read only on a conflict.
            let current: Record<string, unknown> = { ...entity, etag: claimedEtag };
            for (let r = 0; r < 20; r++) {
              const lastNow = Number(current.lastDelivered ?? -1);
              const stillOurs = Number(current.inFlight) === revision;
              try {
                await client.updateEntity(
                  {
                    partitionKey: connectorId,
                    rowKey: key,
                    lastDelivered: delivered ? Math.max(lastNow, revision) : lastNow,
                    inFlight: stillOurs ? null : (current.inFlight as number | null),
                    leaseUntil: stillOurs ? 0 : (current.leaseUntil as number),
                  },
                  'Replace',
                  { etag: String(current.etag) },
                );
                return;
              } catch (error) {
                if (statusCodeOf(error) !== 412) fail(error);
                current = await client.getEntity<Record<string, unknown>>(connectorId, key);
              }
            }
          },
        };
      }
      return { kind: 'busy', inFlight: -1 };
    },
  };
}
