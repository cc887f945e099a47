// Ordering per (connector, appointment), across instances: the last revision the back office accepted, and a
// claim (revision + lease) so two revisions of one appointment are never in flight at once for one connector.
// An older revision is stale once a newer one was sent or is in flight; a newer one waits for an older one in
// flight. The decisions are pure functions (tested table-driven); the I/O is a loop of ETag-guarded writes.
import type { SyncStateRow, SyncStateStore } from '../stores/syncStateStore';

export type ClaimDecision =
  | { kind: 'claim' }
  | { kind: 'stale'; lastDelivered: number | null; inFlight: number | null }
  | { kind: 'busy'; inFlight: number };

/** What a revision may do, given the row (undefined: the connector never saw the appointment). */
export function decideClaim(
  row: SyncStateRow | undefined,
  revision: number,
  options: { allowEqual: boolean },
  now: number,
): ClaimDecision {
  if (!row) return { kind: 'claim' };
  const last = row.lastDelivered;
  if (last !== null && (revision < last || (revision === last && !options.allowEqual)))
    return { kind: 'stale', lastDelivered: last, inFlight: null };
  const held = row.inFlight !== null && row.leaseUntil > now;
  if (held && row.inFlight !== revision) {
    if (row.inFlight! > revision) return { kind: 'stale', lastDelivered: last, inFlight: row.inFlight };
    return { kind: 'busy', inFlight: row.inFlight! };
  }
  return { kind: 'claim' };
}

/** The row that claims `revision` until the lease runs out. */
export const claimedRow = (row: SyncStateRow | undefined, revision: number, leaseUntil: number): SyncStateRow => ({
  lastDelivered: row?.lastDelivered ?? null,
  inFlight: revision,
  leaseUntil,
});

/** The row after `revision`'s attempt ended: delivered moves lastDelivered on; the claim goes if still ours. */
export function releasedRow(row: SyncStateRow, revision: number, delivered: boolean): SyncStateRow {
  const ours = row.inFlight === revision;
  const last = row.lastDelivered;
  return {
    lastDelivered: delivered ? Math.max(last ?? revision, revision) : last,
    inFlight: ours ? null : row.inFlight,
    leaseUntil: ours ? 0 : row.leaseUntil,
  };
}

export interface HeldClaim {
  kind: 'claimed';
  /** When the lease runs out unless renewed. */
  until: number;
  /** A fresh lease; false when another instance took the revision over after this lease ran out. */
  renew(): Promise<boolean>;
  release(delivered: boolean): Promise<void>;
}

export type Claim = HeldClaim | Exclude<ClaimDecision, { kind: 'claim' }>;

const MAX_ROUNDS = 20;

export function createOrdering(store: SyncStateStore, leaseMs: number, now: () => number) {
  async function release(
    connectorId: string,
    guid: string,
    revision: number,
    delivered: boolean,
    known: { row: SyncStateRow; etag: string },
  ) {
    // Usually nobody touched the row since the claim: write with that ETag, read again only on a conflict.
    let current: { row: SyncStateRow; etag: string } | undefined = known;
    for (let round = 0; round < MAX_ROUNDS && current; round++) {
      const written = await store.update(
        connectorId,
        guid,
        releasedRow(current.row, revision, delivered),
        current.etag,
      );
      if (written.ok) return;
      current = await store.read(connectorId, guid);
    }
  }

  return {
    async claim(
      connectorId: string,
      appointmentGuid: string,
      revision: number,
      options: { allowEqual: boolean; known: boolean },
    ): Promise<Claim> {
      // Most appointments are new to a connector: try to create the row first (one round trip). A retry or
      // recovery has a row already: read it first, rather than have a create refused.
      let known: { row: SyncStateRow; etag: string } | undefined;
      let tryCreate = !options.known;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        if (!tryCreate) known = await store.read(connectorId, appointmentGuid);
        tryCreate = false;
        const decision = decideClaim(known?.row, revision, options, now());
        if (decision.kind !== 'claim') return decision;
        const row = claimedRow(known?.row, revision, now() + leaseMs);
        const written = known
          ? await store.update(connectorId, appointmentGuid, row, known.etag)
          : await store.create(connectorId, appointmentGuid, row);
        if (!written.ok) continue; // someone else moved first: look again
        let mine = { row, etag: written.etag };
        const held: HeldClaim = {
          kind: 'claimed',
          until: row.leaseUntil,
          async renew() {
            const renewed = { ...mine.row, leaseUntil: now() + leaseMs };
            const result = await store.update(connectorId, appointmentGuid, renewed, mine.etag);
            if (!result.ok) return false; // only a claim after this lease ran out writes over it
            mine = { row: renewed, etag: result.etag };
            held.until = renewed.leaseUntil;
            return true;
          },
          release: (delivered) => release(connectorId, appointmentGuid, revision, delivered, mine),
        };
        return held;
      }
      // Still contended after many rounds: treat as busy and look again shortly.
      return { kind: 'busy', inFlight: revision };
    },
  };
}

export type Ordering = ReturnType<typeof createOrdering>;
