// The sync's use cases, bound to their dependencies: what the queue, timer and HTTP adapters call.
import type { AuditTrail } from '../audit/auditTrail';
import type { BackOfficeClient } from '../backOffice/backOfficeClient';
import type { AppointmentChange } from '../model/appointmentChange';
import type { CallContext } from '../model/audit';
import type { StoredConnector } from '../model/connector';
import type { RecoverRequest, ResyncRequest } from '../model/recovery';
import type { AppConfig } from '../platform/config';
import { ChangeTooLargeError, NotFoundError } from '../platform/errors';
import type { Logger } from '../platform/logging';
import { type SyncQueues, whyTooLarge } from '../queues/syncQueues';
import type { SecretStore } from '../secrets/secretStore';
import type { DeliveryFilter } from '../stores/deliveryStore';
import type { LatestRevisionStore } from '../stores/latestRevisionStore';
import type { RecoveryStore } from '../stores/recoveryStore';
import type { SyncStateStore } from '../stores/syncStateStore';
import type { ConnectorsOf } from './connectorCache';
import type { DeliveryLog } from './deliveryLog';
import type { SyncDeps } from './deps';
import { createDispatch } from './dispatch';
import { handleChange, type QueueMessage } from './handleChange';
import { handleWorkItem } from './handleWorkItem';
import { sweepPoison } from './poisonSweep';
import type { PrincipalBudgets } from './principalBudget';
import { getRecovery, handleRecoveryPage, type RecoveryDeps, startRecovery } from './recovery';
import { replayDelivery } from './replay';
import { createSender } from './sendToConnector';
import { createSettler } from './settle';
import { createOrdering } from './syncState';

export interface SyncWiring {
  connectorsOf: ConnectorsOf<StoredConnector[]>;
  connectorById(id: string): Promise<StoredConnector | undefined>;
  deliveries: DeliveryLog;
  latest: LatestRevisionStore;
  syncState: SyncStateStore;
  queues: SyncQueues;
  audit: AuditTrail;
  backOffice: BackOfficeClient;
  secrets: SecretStore;
  budgets: PrincipalBudgets;
  config: Pick<AppConfig, 'sync' | 'queues' | 'managedIdentityClientId'>;
  recoveries: RecoveryStore;
  now?: () => number;
}

export function createSyncUseCases(wiring: SyncWiring) {
  const now = wiring.now ?? Date.now;
  const policy = { delaysMs: wiring.config.sync.retryDelaysMs, horizonMs: wiring.config.sync.retryHorizonMs };
  const settle = createSettler({
    deliveries: wiring.deliveries,
    queues: wiring.queues,
    policy,
    now,
    // A delivery that belongs to a recovery counts towards its progress.
    onSettled: (recoveryId, deliveryId, status) => wiring.recoveries.markSettled(recoveryId, deliveryId, status),
  });
  const sender = createSender({
    backOffice: wiring.backOffice,
    secrets: wiring.secrets,
    budgets: wiring.budgets,
    ordering: createOrdering(wiring.syncState, wiring.config.sync.claimLeaseMs, now),
    managedIdentityClientId: wiring.config.managedIdentityClientId,
    sendBoundMs: wiring.config.sync.sendBoundMs,
    now,
  });
  const deps: SyncDeps = {
    connectorsOf: wiring.connectorsOf,
    connectorById: wiring.connectorById,
    deliveries: wiring.deliveries,
    latest: wiring.latest,
    queues: wiring.queues,
    audit: wiring.audit,
    settle,
    policy,
    dispatch: createDispatch({
      sender,
      settle,
      batchLingerMs: wiring.config.sync.batchLingerMs,
      batchMaxOperations: wiring.config.sync.batchMaxOperations,
    }),
    now,
  };

  const recovery: RecoveryDeps = { ...deps, recoveries: wiring.recoveries };

  return {
    deps,
    handleChange: (message: QueueMessage, log: Logger) => handleChange(deps, message, log),
    handleWorkItem: (message: QueueMessage, log: Logger) => handleWorkItem(deps, message, log),
    sweepPoison: (log: Logger) =>
      sweepPoison(
        deps,
        {
          changes: wiring.config.queues.appointments,
          retries: wiring.config.queues.appointmentRetries,
          recoveries: wiring.config.queues.recoveries,
        },
        log,
      ),
    replay: (id: string, call: CallContext, log: Logger) => replayDelivery(deps, id, call, log),
    recover: (connectorId: string, request: RecoverRequest, call: CallContext, log: Logger) =>
      startRecovery(recovery, 'recover', connectorId, request, call, log),
    resync: (connectorId: string, request: ResyncRequest, call: CallContext, log: Logger) =>
      startRecovery(recovery, 'resync', connectorId, request, call, log),
    handleRecoveryPage: (message: QueueMessage, log: Logger) => handleRecoveryPage(recovery, message, log),
    getRecovery: (id: string) => getRecovery(recovery, id),

    /**
     * Queues changes as producers do; each carries the caller's trace unless it brought its own. Every change is
     * checked to fit a queue message first: a request is queued whole, or not at all.
     */
    async enqueue(
      changes: AppointmentChange[],
      traceparent: string | undefined,
      options: { single?: boolean } = {},
    ): Promise<string[]> {
      const traced = changes.map((c) => (traceparent && !c.traceparent ? { ...c, traceparent } : c));
      const errors = traced.flatMap((c, i) => {
        const why = whyTooLarge(c);
        return why ? [{ path: options.single ? '(change)' : `[${i}]`, code: 'too_large', message: why }] : [];
      });
      if (errors.length)
        throw new ChangeTooLargeError(
          `${errors.length === 1 ? 'A change is' : `${errors.length} changes are`} too large for the queue; nothing was queued.`,
          errors,
        );
      for (let i = 0; i < traced.length; i += 10)
        await Promise.all(traced.slice(i, i + 10).map((c) => wiring.queues.sendChange(c)));
      return traced.map((c) => c.messageId);
    },

    listDeliveries: (filter: DeliveryFilter, page: { size: number; token?: string }) =>
      wiring.deliveries.list(filter, page),
    async getDelivery(id: string) {
      const found = await wiring.deliveries.find(id);
      if (!found) throw new NotFoundError(`Delivery ${id} does not exist.`);
      return found.value;
    },
  };
}

export type SyncUseCases = ReturnType<typeof createSyncUseCases>;
