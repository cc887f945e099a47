// How a delivery is written down when it must wait, against the real delivery log on the in-memory table: the row says
// "retrying" before the change is queued again (its next attempt may finish first), and a row that says
// delivered is not turned back by a late copy of the same message that waited or was deferred.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StoredConnector } from '../../src/model/connector';
import { silentLogger } from '../../src/platform/logging';
import type { SyncQueues } from '../../src/queues/syncQueues';
import { createDeliveryStore } from '../../src/stores/deliveryStore';
import { TableBatcher } from '../../src/stores/tableBatcher';
import { createDeliveryLog, type DeliveryLog, rowBase } from '../../src/sync/deliveryLog';
import type { PendingDelivery } from '../../src/sync/pending';
import { createSettler } from '../../src/sync/settle';
import { MemoryTable } from '../fakes/memoryTable';
import { sampleChange } from '../support/changes';

let deliveries: DeliveryLog;

beforeAll(async () => {
  const memory = new MemoryTable('deliveries');
  const table = async () => memory.client();
  deliveries = createDeliveryLog(createDeliveryStore(table, new TableBatcher(table)), Date.now);
});

const connector: StoredConnector = {
  id: randomUUID(),
  name: 'settle',
  description: '',
  sourceApp: 'BCCRONUSUS',
  sourceType: null,
  backOffice: 'bc-onprem',
  apiType: 'rest',
  sendAppointments: true,
  databaseActions: ['I', 'U', 'D'],
  webServiceUri: 'https://bc.example.com/BC/api/dime/scheduler/v1.0/companies(1)/appointments',
  authType: 'basic',
  login: 'SVC',
  hasPassword: true,
  secretExpiresAt: null,
  createdAt: '2026-11-29T12:00:00.000Z',
  updatedAt: '2026-11-29T12:00:00.000Z',
  secretName: 'connector-x',
  secretVersion: null,
  revision: 1,
};

function pending(): PendingDelivery {
  const change = sampleChange({ appointment: { appointmentGuid: randomUUID() } });
  return {
    connector,
    change,
    attempt: 0,
    firstAttemptAt: Date.now(),
    enqueuedAt: Date.now() - 1000,
    mode: 'retry',
    fresh: true,
    base: rowBase(connector, change, { traceId: null }),
    log: silentLogger,
  };
}

/** A retry queue that notes what the row said at the moment each change was queued again. */
function queues() {
  const rowAtSend: Array<string | undefined> = [];
  const q = {
    async sendWorkItem(item: { change: { appointment: { appointmentGuid: string } } }) {
      const p = sent.get(item.change.appointment.appointmentGuid)!;
      rowAtSend.push((await deliveries.find(p.base.id))?.value.status);
    },
  } as unknown as SyncQueues;
  const sent = new Map<string, PendingDelivery>();
  return { q, rowAtSend, track: (p: PendingDelivery) => sent.set(p.change.appointment.appointmentGuid, p) };
}

const policy = { delaysMs: [1000], horizonMs: 3_600_000 };

describe('settle', () => {
  it("names Entra's code once in the row and its history, whether or not the message starts with it", async () => {
    const { q } = queues();
    const settle = createSettler({ deliveries, queues: q, policy, now: Date.now });
    const [a, b] = [pending(), pending()];
    const entra = (message: string) => ({
      kind: 'permanent' as const,
      code: 'auth.invalid-client-secret' as const,
      status: 401,
      upstreamCode: 'AADSTS7000215',
      message,
      durationMs: 3,
    });
    await settle.outcome(a, entra('AADSTS7000215: Invalid client secret provided.'));
    await settle.outcome(b, entra('Invalid client secret provided.'));
    for (const p of [a, b]) {
      const row = (await deliveries.find(p.base.id))!.value;
      expect(row.message).toBe('AADSTS7000215: Invalid client secret provided.');
      expect(row.history.map((h) => h.message)).toEqual(['AADSTS7000215: Invalid client secret provided.']);
    }
  });

  it('writes "retrying" before queueing the change again, for a transient result, a spent budget and a wait', async () => {
    const { q, rowAtSend, track } = queues();
    const settle = createSettler({ deliveries, queues: q, policy, now: Date.now });
    const [a, b, c] = [pending(), pending(), pending()];
    for (const p of [a, b, c]) track(p);
    await settle.outcome(a, { kind: 'transient', code: 'http.server-error', status: 503, message: 'x', durationMs: 5 });
    await settle.deferred(b, Date.now() + 2000, 'user:bc.example.com:svc', 'budget');
    await settle.waiting(c, 3);
    expect(rowAtSend).toEqual(['retrying', 'retrying', 'retrying']);
  });

  it('keeps a delivered row delivered when a late copy of the message waited or was deferred', async () => {
    const { q, track } = queues();
    const settle = createSettler({ deliveries, queues: q, policy, now: Date.now });
    const p = pending();
    track(p);
    await settle.outcome(p, { kind: 'delivered', code: 'delivered', status: 201, message: 'ok', durationMs: 20 });
    await settle.deferred({ ...p }, Date.now() + 2000, 'user:bc.example.com:svc', 'throttle');
    await settle.waiting({ ...p }, 3);
    await settle.stale({ ...p }, 'revision 1 was already sent');
    const row = (await deliveries.find(p.base.id))!.value;
    expect(row).toMatchObject({ status: 'delivered', code: 'delivered', attempts: 1 });
    // A later attempt (a replay that got through again, or failed) is still written.
    await settle.outcome(
      { ...p, attempt: 1 },
      { kind: 'transient', code: 'http.server-error', status: 503, message: 'x', durationMs: 5 },
    );
    expect((await deliveries.find(p.base.id))!.value).toMatchObject({ status: 'retrying', attempts: 2 });
  });
});
