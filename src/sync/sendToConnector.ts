// Sending what waits for one connector. The story of a group:
//   newest revision per appointment -> read the connector's secret -> by $batch (a Business Central REST API
//   page) or one by one: claim each revision (ordering) -> a request permit from the principal's budget ->
//   claims that still outlast the request -> send -> release the permit (telling the budget about a 429) ->
//   release the claims -> settle each change.
// A permit is held for the request itself (and, rarely, a claim's renewal), not while claiming or settling.
// A spent budget gives the claims back and defers the change on the queue; it never holds the invocation.

import type { BackOfficeClient } from '../backOffice/backOfficeClient';
import type { BackOfficeTarget } from '../backOffice/target';
import { principalOf } from '../backOffice/target';
import { resolveTarget, SecretMissingError } from '../connectors/connectorTarget';
import { isDelivered, type Outcome } from '../model/outcome';
import { buildPushBody } from '../model/pushBody';
import { DependencyError } from '../platform/errors';
import type { SecretStore } from '../secrets/secretStore';
import type { PendingDelivery } from './pending';
import type { Permit, PrincipalBudgets } from './principalBudget';
import { allowsEqualRevision, type Settler } from './settle';
import type { HeldClaim, Ordering } from './syncState';

export interface SendDeps {
  backOffice: BackOfficeClient;
  secrets: SecretStore;
  budgets: PrincipalBudgets;
  ordering: Ordering;
  settle: Settler;
  managedIdentityClientId?: string;
  /** The longest a request may take (a token and the request, twice after a 401): a claim with less left is renewed. */
  sendBoundMs: number;
  now(): number;
}

type Claimed = { p: PendingDelivery; claim: HeldClaim };

/** How long a connector whose server refused $batch is sent to one change at a time. */
export const BATCH_FALLBACK_MS = 10 * 60_000;
/** A 429 without Retry-After pauses the principal this long. */
const THROTTLE_BACKOFF_MS = 5_000;

export function createSender(deps: SendDeps) {
  const singlyUntil = new Map<string, number>();

  /** Whether changes to this connector gather into a $batch (and so are worth waiting a moment for). */
  const batches = (connector: PendingDelivery['connector']) =>
    deps.backOffice.canBatch(connector) && (singlyUntil.get(connector.id) ?? 0) <= deps.now();

  async function send(group: PendingDelivery[]): Promise<void> {
    const { newest, superseded } = newestPerAppointment(group);
    await Promise.all(
      superseded.map(({ p, by }) => deps.settle.stale(p, `revision ${by} of the appointment came in the same batch`)),
    );
    const target = await targetFor(newest);
    if (!target) return;
    const principal = principalOf(target, deps.managedIdentityClientId);
    if (newest.length > 1 && batches(newest[0]!.connector)) await sendBatch(target, principal, newest);
    else await Promise.all(newest.map((p) => sendOne(target, principal, p)));
  }

  /** The connector's secret; a missing secret fails the group, a Key Vault outage retries it. */
  async function targetFor(group: PendingDelivery[]): Promise<BackOfficeTarget | undefined> {
    const connector = group.reduce((a, b) => (b.connector.revision > a.connector.revision ? b : a)).connector;
    try {
      return await resolveTarget(connector, deps.secrets);
    } catch (error) {
      let outcome: Outcome;
      if (error instanceof SecretMissingError)
        outcome = { kind: 'permanent', code: 'config.secret-missing', message: error.message, durationMs: 0 };
      else if (error instanceof DependencyError)
        outcome = { kind: 'transient', code: 'secrets.unavailable', message: error.message, durationMs: 0 };
      else throw error;
      await Promise.all(group.map((p) => deps.settle.outcome(p, outcome)));
      return undefined;
    }
  }

  async function sendBatch(target: BackOfficeTarget, principal: string, group: PendingDelivery[]): Promise<void> {
    const claimed = await claimAll(group);
    if (claimed.length === 0) return;
    const go = await readyToSend(principal, claimed);
    if (!go) return;
    const { permit, ready } = go;
    if (ready.length === 1) return deliverClaimed(target, permit, ready[0]!);
    let result: Awaited<ReturnType<BackOfficeClient['deliverBatch']>>;
    try {
      result = await deps.backOffice.deliverBatch(
        target,
        ready.map((c) => buildPushBody(target.id, c.p.change)),
      );
    } catch (error) {
      permit.release();
      await Promise.all(ready.map((c) => c.claim.release(false).catch(() => undefined)));
      throw error;
    }
    if (result.refused) {
      permit.release();
      singlyUntil.set(target.id, deps.now() + BATCH_FALLBACK_MS);
      claimed[0]!.p.log.warn('delivery.batch-refused', {
        connectorId: target.id,
        status: result.status,
        reason: result.reason,
        fallbackMinutes: BATCH_FALLBACK_MS / 60_000,
      });
      await Promise.all(ready.map((c) => sendClaimedAlone(target, principal, c)));
      return;
    }
    permit.release(throttleOf(result.outcomes));
    await finish(ready, result.outcomes);
  }

  async function sendOne(target: BackOfficeTarget, principal: string, p: PendingDelivery): Promise<void> {
    const [claimed] = await claimAll([p]);
    if (claimed) await sendClaimedAlone(target, principal, claimed);
  }

  /** A claimed change sent on its own, with a permit of its own. */
  async function sendClaimedAlone(target: BackOfficeTarget, principal: string, c: Claimed): Promise<void> {
    const go = await readyToSend(principal, [c]);
    if (go) await deliverClaimed(target, go.permit, go.ready[0]!);
  }

  /**
   * A request permit, then the claims that outlast the request: a claim with less time left than the longest
   * request is renewed (rarely: only when claiming and the permit took long), and one another instance took
   * over meanwhile is not sent, or a newer revision could go while this one is on its way.
   */
  async function readyToSend(principal: string, claimed: Claimed[]) {
    const take = await deps.budgets.take(principal);
    if (!take.granted) {
      await defer(claimed, take.retryAtMs, principal);
      return undefined;
    }
    const held = await Promise.all(
      claimed.map(
        async (c) => c.claim.until - deps.now() >= deps.sendBoundMs || (await c.claim.renew().catch(() => false)),
      ),
    );
    const ready = claimed.filter((_, i) => held[i]);
    await Promise.all(claimed.filter((_, i) => !held[i]).map((c) => deps.settle.waiting(c.p, c.p.change.revision)));
    if (ready.length === 0) {
      take.permit.release();
      return undefined;
    }
    return { permit: take.permit, ready };
  }

  /** The budget is spent: the claims go back (nothing was sent) and the changes wait on the queue. */
  async function defer(claimed: Claimed[], retryAtMs: number, principal: string): Promise<void> {
    await Promise.all(
      claimed.map(async (c) => {
        await c.claim.release(false);
        await deps.settle.deferred(c.p, retryAtMs, principal);
      }),
    );
  }

  async function deliverClaimed(target: BackOfficeTarget, permit: Permit, c: Claimed): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await deps.backOffice.deliver(target, buildPushBody(target.id, c.p.change));
    } catch (error) {
      permit.release();
      await c.claim.release(false).catch(() => undefined);
      throw error;
    }
    permit.release(throttleOf([outcome]));
    await finish([c], [outcome]);
  }

  /** Claims each revision; the stale and the waiting are settled here and left out. */
  async function claimAll(group: PendingDelivery[]): Promise<Claimed[]> {
    const claims = await Promise.all(
      group.map(async (p) => ({
        p,
        claim: await deps.ordering.claim(p.connector.id, p.change.appointment.appointmentGuid, p.change.revision, {
          allowEqual: allowsEqualRevision(p),
        }),
      })),
    );
    const claimed: Claimed[] = [];
    await Promise.all(
      claims.map(async ({ p, claim }) => {
        if (claim.kind === 'claimed') claimed.push({ p, claim });
        else if (claim.kind === 'busy') await deps.settle.waiting(p, claim.inFlight);
        else
          await deps.settle.stale(
            p,
            claim.inFlight !== null
              ? `revision ${claim.inFlight} is in flight, newer than revision ${p.change.revision}`
              : `revision ${claim.lastDelivered} was already sent (this is revision ${p.change.revision})`,
          );
      }),
    );
    return claimed;
  }

  async function finish(claimed: Claimed[], outcomes: Outcome[]): Promise<void> {
    await Promise.all(
      claimed.map(async ({ p, claim }, i) => {
        const outcome = outcomes[i]!;
        await claim.release(isDelivered(outcome));
        await deps.settle.outcome(p, outcome);
      }),
    );
  }

  return { send, batches };
}

/** Within one group, only the newest revision of an appointment is sent; the older ones are stale. */
export function newestPerAppointment(group: PendingDelivery[]): {
  newest: PendingDelivery[];
  superseded: Array<{ p: PendingDelivery; by: number }>;
} {
  const best = new Map<string, PendingDelivery>();
  for (const p of group) {
    const key = p.change.appointment.appointmentGuid;
    const held = best.get(key);
    if (!held || p.change.revision > held.change.revision) best.set(key, p);
  }
  const newest = [...best.values()];
  const superseded = group
    .filter((p) => !newest.includes(p))
    .map((p) => ({ p, by: best.get(p.change.appointment.appointmentGuid)!.change.revision }));
  return { newest, superseded };
}

/** What a 429 among the outcomes tells the budget: its Retry-After, or a back-off. */
function throttleOf(outcomes: Outcome[]): { throttledMs?: number } {
  const throttled = outcomes.filter((o) => o.code === 'http.throttled');
  if (throttled.length === 0) return {};
  return { throttledMs: Math.max(...throttled.map((o) => o.retryAfterMs ?? THROTTLE_BACKOFF_MS)) };
}
