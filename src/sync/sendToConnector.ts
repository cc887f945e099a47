// Sending what waits for one connector. The story of a group, one function per step, in this order:
//   newestPerAppointment  only the newest revision of an appointment goes; the older are stale
//   targetFor             the connector's address and secret (a missing secret fails the group, an outage retries it)
//   claimAll              claim each revision (sync state): one in flight per appointment, never an older after a newer
//   sendTogether/Alone    per request: a permit from the principal's budget (withPermit), the claims that still
//                         outlast the request, then the request: one $batch, or one change
//   (whatever happens)    the permit goes back when its request ends; every claim goes back when the group ends
// The sender decides and sends; it writes no row. It answers one result per change, which the caller settles
// exactly once (settle.ts).
import type { BackOfficeClient } from '../backOffice/backOfficeClient';
import type { BackOfficeTarget } from '../backOffice/target';
import { principalOf } from '../backOffice/target';
import { resolveTarget, SecretMissingError } from '../connectors/connectorTarget';
import { isDelivered, type Outcome } from '../model/outcome';
import { buildPushBody } from '../model/pushBody';
import { mayResendDelivered } from '../model/workItem';
import { DependencyError } from '../platform/errors';
import { connectorAttributes, context, inSpan, type Link, trace } from '../platform/telemetry';
import type { SecretStore } from '../secrets/secretStore';
import type { PendingDelivery } from './pending';
import type { DeferralReason, PrincipalBudgets } from './principalBudget';
import type { HeldClaim, Ordering } from './syncState';

/** How one change to one connector ended this time; settle.ts writes it down. */
export type SendResult =
  /** Not sent: a newer revision was sent or is in flight, or this one was delivered before. */
  | { kind: 'stale'; why: string }
  /** Not sent: an older revision of the appointment is still in flight. */
  | { kind: 'waiting'; inFlight: number }
  /** Not sent: the principal's budget is spent until then. */
  | { kind: 'deferred'; retryAtMs: number; principal: string; reason: DeferralReason }
  /** Sent (or could not be): the back office's answer. */
  | { kind: 'outcome'; outcome: Outcome };

export interface SendDeps {
  backOffice: BackOfficeClient;
  secrets: SecretStore;
  budgets: PrincipalBudgets;
  ordering: Ordering;
  managedIdentityClientId?: string;
  /** The longest a request may take (a token and the request, twice after a 401): a claim with less left is renewed. */
  sendBoundMs: number;
  now(): number;
}

type Claimed = { p: PendingDelivery; claim: HeldClaim };
type Results = Map<PendingDelivery, SendResult>;

/** How long a connector whose server refused $batch is sent to one change at a time. */
export const BATCH_FALLBACK_MS = 10 * 60_000;
/** A 429 without Retry-After pauses the principal this long. */
const THROTTLE_BACKOFF_MS = 5_000;

const outcomeOf = (outcome: Outcome): SendResult => ({ kind: 'outcome', outcome });

export function createSender(deps: SendDeps) {
  const singlyUntil = new Map<string, number>();

  /** Whether changes to this connector gather into a $batch (and so are worth waiting a moment for). */
  const batches = (connector: Pick<PendingDelivery['connector'], 'id' | 'apiType' | 'backOffice' | 'webServiceUri'>) =>
    deps.backOffice.canBatch(connector) && (singlyUntil.get(connector.id) ?? 0) <= deps.now();

  /** Sends a group of changes for one connector; one result per change of the group. */
  async function send(group: PendingDelivery[]): Promise<Results> {
    const results: Results = new Map();
    const { newest, superseded } = newestPerAppointment(group);
    for (const { p, by } of superseded)
      results.set(p, { kind: 'stale', why: `revision ${by} of the appointment came in the same batch` });
    const target = await targetFor(newest, results);
    if (!target) return results;
    const principal = principalOf(target, deps.managedIdentityClientId);
    const claimed = await claimAll(newest, results);
    await holdingClaims(claimed, results, async () => {
      if (claimed.length > 1 && batches(target)) await sendTogether(target, principal, claimed, results);
      else await Promise.all(claimed.map((c) => sendAlone(target, principal, c, results)));
    });
    return results;
  }

  /** The connector's secret; a missing secret fails the group, a Key Vault outage retries it. */
  async function targetFor(group: PendingDelivery[], results: Results): Promise<BackOfficeTarget | undefined> {
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
      for (const p of group) results.set(p, outcomeOf(outcome));
      return undefined;
    }
  }

  /** Claims each revision; the stale and the waiting get their result here and are left out. */
  async function claimAll(group: PendingDelivery[], results: Results): Promise<Claimed[]> {
    const claims = await Promise.all(
      group.map(async (p) => ({
        p,
        claim: await deps.ordering.claim(p.connector.id, p.change.appointment.appointmentGuid, p.change.revision, {
          allowEqual: mayResendDelivered(p.mode),
          known: !p.fresh,
        }),
      })),
    );
    const claimed: Claimed[] = [];
    for (const { p, claim } of claims) {
      if (claim.kind === 'claimed') claimed.push({ p, claim });
      else if (claim.kind === 'busy') results.set(p, { kind: 'waiting', inFlight: claim.inFlight });
      else
        results.set(p, {
          kind: 'stale',
          why:
            claim.inFlight !== null
              ? `revision ${claim.inFlight} is in flight, newer than revision ${p.change.revision}`
              : `revision ${claim.lastDelivered} was already sent (this is revision ${p.change.revision})`,
        });
    }
    return claimed;
  }

  /**
   * Runs the sending with the claims held, then gives every claim back whatever happened: a delivered revision
   * moves the appointment's lastDelivered on. A claim that cannot be given back fails the group only when the
   * sending itself went well (otherwise the sending's error is the one to see).
   */
  async function holdingClaims(claimed: Claimed[], results: Results, sending: () => Promise<void>): Promise<void> {
    const giveBack = () =>
      Promise.all(
        claimed.map(({ p, claim }) => {
          const result = results.get(p);
          return claim.release(result?.kind === 'outcome' && isDelivered(result.outcome));
        }),
      );
    try {
      await sending();
    } catch (error) {
      await giveBack().catch(() => undefined);
      throw error;
    }
    await giveBack();
  }

  /** Claimed changes that can go as one $batch; a server that does not confirm the batch gets them one by one. */
  async function sendTogether(target: BackOfficeTarget, principal: string, claimed: Claimed[], results: Results) {
    const sent = await withPermit(principal, claimed, results, async (ready) => {
      if (ready.length === 1) return [await deliverOne(target, ready[0]!)];
      // One request for many changes: its span sits in the first change's trace and links to every change's.
      const answer = await inSpan(
        '$batch',
        {
          parent: ready[0]!.p.trace,
          links: ready.flatMap((c): Link[] => {
            const linked = c.p.trace && trace.getSpanContext(c.p.trace);
            return linked ? [{ context: linked }] : [];
          }),
          attributes: { ...connectorAttributes(ready[0]!.p.connector), 'batch.size': ready.length },
        },
        () =>
          deps.backOffice.deliverBatch(
            target,
            ready.map((c) => buildPushBody(target.id, c.p.change)),
          ),
      );
      if (!answer.refused) return answer.outcomes;
      singlyUntil.set(target.id, deps.now() + BATCH_FALLBACK_MS);
      ready[0]!.p.log.warn('delivery.batch-refused', {
        connectorId: target.id,
        status: answer.status,
        reason: answer.reason,
        fallbackMinutes: BATCH_FALLBACK_MS / 60_000,
      });
      return 'send-singly';
    });
    if (sent?.answer === 'send-singly')
      await Promise.all(sent.ready.map((c) => sendAlone(target, principal, c, results)));
  }

  /** One claimed change, with a permit of its own. */
  const sendAlone = (target: BackOfficeTarget, principal: string, c: Claimed, results: Results) =>
    withPermit(principal, [c], results, async ([ready]) => [await deliverOne(target, ready!)]);

  /** One change, its request a child of the change's own span (whichever change's turn sent the group). */
  const deliverOne = (target: BackOfficeTarget, c: Claimed) =>
    context.with(c.p.trace ?? context.active(), () =>
      deps.backOffice.deliver(target, buildPushBody(target.id, c.p.change)),
    );

  /**
   * One request under a permit of the principal's budget: `request` runs with the claims that still outlast it
   * and answers an outcome per change (or asks for them to go singly). The permit goes back when the request
   * ends, telling the budget of a 429 among the outcomes. A spent budget defers the changes: their claims go back
   * with the group, nothing having been sent. A claim with too little time left is renewed first (rarely: only
   * when claiming and the permit took long), and one another instance took over meanwhile waits, or a newer
   * revision could go while this one is on its way.
   */
  async function withPermit(
    principal: string,
    claimed: Claimed[],
    results: Results,
    request: (ready: Claimed[]) => Promise<Outcome[] | 'send-singly'>,
  ): Promise<{ ready: Claimed[]; answer: Outcome[] | 'send-singly' } | undefined> {
    const take = await deps.budgets.take(principal);
    if (!take.granted) {
      for (const c of claimed)
        results.set(c.p, { kind: 'deferred', retryAtMs: take.retryAtMs, principal, reason: take.reason });
      return undefined;
    }
    let outcomes: Outcome[] = [];
    try {
      const held = await Promise.all(
        claimed.map(
          async (c) => c.claim.until - deps.now() >= deps.sendBoundMs || (await c.claim.renew().catch(() => false)),
        ),
      );
      const ready = claimed.filter((c, i) => {
        if (!held[i]) results.set(c.p, { kind: 'waiting', inFlight: c.p.change.revision });
        return held[i];
      });
      if (ready.length === 0) return undefined;
      const answer = await request(ready);
      if (answer !== 'send-singly') {
        outcomes = answer;
        for (const [i, c] of ready.entries()) results.set(c.p, outcomeOf(answer[i]!));
      }
      return { ready, answer };
    } finally {
      take.permit.release(throttleOf(outcomes));
    }
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
