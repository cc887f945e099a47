// The composition root: the one place that wires real adapters to the use cases. Everything is built on first
// use, so a cold start pays only for what the first invocation needs.

import { randomUUID } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { createActionUriUseCases } from './actionUris/actionUriUseCases';
import { createAuditTrail } from './audit/auditTrail';
import { type Authenticator, createEntraAuthenticator, noAuthentication } from './auth/entraTokens';
import type { Role } from './auth/roles';
import { createBackOfficeClient } from './backOffice/backOfficeClient';
import { createOutboundHttp, type OutboundHttp } from './backOffice/outboundHttp';
import { createTokenService, type TokenService } from './backOffice/tokens';
import { createConnectorUseCases } from './connectors/connectorUseCases';
import type { Actor } from './model/audit';
import { credentialStatusOf } from './model/connector';
import { appVersion } from './platform/appInfo';
import { type Clock, systemClock } from './platform/clock';
import { type AppConfig, loadConfig } from './platform/config';
import { dependencyBounds, withinDeadline } from './platform/deadline';
import { instanceId, instanceName } from './platform/instance';
import type { Logger } from './platform/logging';
import { consoleSink, createLogger } from './platform/logging';
import { tableNames } from './platform/resourceNames';
import { onShutdown } from './platform/shutdown';
import { createStorage } from './platform/storage';
import { connectorAttributes, instruments } from './platform/telemetry';
import { createSyncQueues, type SyncQueues } from './queues/syncQueues';
import { createKeyVaultSecretStore } from './secrets/keyVaultSecretStore';
import type { SecretStore } from './secrets/secretStore';
import { createActionUriStore } from './stores/actionUriStore';
import { createAuditStore } from './stores/auditStore';
import { createBudgetStore } from './stores/budgetStore';
import { createConnectorStore } from './stores/connectorStore';
import { createDeliveryStore } from './stores/deliveryStore';
import { createHealthStore } from './stores/healthStore';
import { createInstanceStore, type InstanceStore } from './stores/instanceStore';
import { createLatestRevisionStore } from './stores/latestRevisionStore';
import { createRecoveryStore } from './stores/recoveryStore';
import { createSyncStateStore } from './stores/syncStateStore';
import type { Table } from './stores/table';
import { TableBatcher } from './stores/tableBatcher';
import { cachedBySourceApp } from './sync/connectorCache';
import { createConnectorHealth, createHealthQueries } from './sync/connectorHealth';
import { createDeliveryLog } from './sync/deliveryLog';
import { deliveryMetrics } from './sync/deliveryMetrics';
import { createPrincipalBudgets } from './sync/principalBudget';
import { createSyncUseCases } from './sync/syncUseCases';

export interface HealthCheck {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
}

export { instanceId };

/**
 * What the services talk to: storage, Key Vault, back offices, Entra, time. Azure's are built from the config;
 * the unit layer passes in-memory ones through the same composition (test/support/unitApp.ts).
 */
export interface Adapters {
  table(name: string): Table;
  queues: SyncQueues;
  secrets: SecretStore;
  http: OutboundHttp;
  tokens: TokenService;
  clock: Clock;
}

export function realAdapters(config: AppConfig): Adapters {
  const storage = createStorage(config);
  return {
    table: (name) => () => storage.table(`${config.tablePrefix}${name}`),
    queues: createSyncQueues(storage, config.queues),
    secrets: createKeyVaultSecretStore(config),
    http: createOutboundHttp({
      allowLoopback: config.backOfficeAllowLoopback,
      totalTimeoutMs: config.backOfficeTimeoutMs,
      connectTimeoutMs: Math.min(10_000, config.backOfficeTimeoutMs),
    }),
    tokens: createTokenService({
      entraAuthorityHost: config.entraAuthorityHost,
      managedIdentityClientId: config.managedIdentityClientId,
      timeoutMs: Math.min(30_000, config.backOfficeTimeoutMs),
    }),
    clock: systemClock,
  };
}

export function createServices(config: AppConfig, adapters: Adapters = realAdapters(config)) {
  const { table, queues, secrets, clock } = adapters;
  const now = clock.now;
  const batcher = (name: string) => new TableBatcher(table(name));

  const connectorStore = createConnectorStore(table(tableNames.connectors));
  const latest = createLatestRevisionStore(table(tableNames.latestRevisions), batcher(tableNames.latestRevisions));
  const health = createConnectorHealth({
    store: createHealthStore(table(tableNames.connectorHealth), batcher(tableNames.connectorHealth)),
    now,
    flushMs: config.sync.healthFlushMs,
    credentialWarningMs: config.credentialExpiryWarningMs,
    log: createLogger(consoleSink, { component: 'health', instanceId }),
  });
  // What this instance counted and did not write yet is written when it stops.
  onShutdown(() => health.close());
  const instances = createInstanceStore(table(tableNames.instances));
  const heartbeat = startHeartbeat(instances, now, createLogger(consoleSink, { component: 'instances', instanceId }));
  onShutdown(() => heartbeat.stop());
  const deliveries = createDeliveryLog(
    createDeliveryStore(table(tableNames.deliveries), batcher(tableNames.deliveries), now),
    now,
    [deliveryMetrics(now), health.listener],
  );
  // Read when the metrics are collected (every OTEL_METRIC_EXPORT_INTERVAL), never when telemetry is off.
  instruments().queueAge.addCallback(async (result) => {
    for (const { queue, seconds } of await queues.oldestAges().catch(() => []))
      result.observe(Math.round(seconds), { queue });
  });
  const audit = createAuditTrail({
    store: createAuditStore(table(tableNames.audit), batcher(tableNames.audit)),
    retentionMs: config.retention.auditMs,
    now,
  });
  const backOffice = createBackOfficeClient({ http: adapters.http, tokens: adapters.tokens, now });
  const authenticator: Authenticator =
    config.auth.mode === 'entra'
      ? createEntraAuthenticator({ authorityHost: config.entraAuthorityHost, ...config.auth })
      : noAuthentication;

  const healthQueries = createHealthQueries(health, connectorStore);
  // Every connector's health as a gauge, for the workbook's connector table (two queries per collection).
  instruments().connectorHealth.addCallback(async (result) => {
    for (const h of await healthQueries.all().catch(() => []))
      result.observe(h.retrying, {
        'connector.id': h.connectorId,
        'connector.name': h.name,
        source_app: h.sourceApp,
        status: h.status,
        credential_status: h.credentialStatus,
        'last_failure.code': h.lastFailure?.code ?? '',
        'last_failure.help': h.lastFailure?.help ?? '',
      });
  });

  const connectors = createConnectorUseCases({
    store: connectorStore,
    health,
    secrets,
    audit,
    latest,
    backOffice,
    allowLoopback: config.backOfficeAllowLoopback,
    credentialWarningMs: config.credentialExpiryWarningMs,
    now,
    newId: randomUUID,
  });

  const budgets = createPrincipalBudgets({
    store: createBudgetStore(table(tableNames.budgets)),
    settings: config.budget,
    instanceId,
    log: createLogger(consoleSink, { component: 'budget', instanceId }),
    clock,
  });
  // A stopping instance hands its budget slots to the others at once, not when its lease runs out.
  onShutdown(() => budgets.giveBackAll());
  const sync = createSyncUseCases({
    connectorsOf: cachedBySourceApp((app) => connectorStore.routedTo(app), config.sync.connectorCacheMs, now),
    connectorById: async (id) => (await connectorStore.get(id))?.value,
    deliveries,
    latest,
    syncState: createSyncStateStore(table(tableNames.syncState), batcher(tableNames.syncState)),
    recoveries: createRecoveryStore(table(tableNames.recoveries), batcher(tableNames.recoveries)),
    queues,
    audit,
    backOffice,
    secrets,
    budgets,
    config,
    now,
  });

  const timed = async (name: string, probe: () => Promise<unknown>): Promise<HealthCheck> => {
    const started = performance.now();
    try {
      // The probe's calls end at the deadline; the race covers a wait on something already under way (a queue
      // being created for another request), which the probe did not start and cannot bound.
      await withinDeadline(dependencyBounds.probeMs, () =>
        Promise.race([
          probe(),
          new Promise((_, reject) =>
            setTimeout(
              () => reject(Object.assign(new Error('no answer'), { code: 'timeout' })),
              dependencyBounds.probeMs,
            ).unref(),
          ),
        ]),
      );
      return { name, ok: true, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      const e = error as { code?: string };
      return { name, ok: false, durationMs: Math.round(performance.now() - started), error: e.code ?? 'unavailable' };
    }
  };

  return {
    config,
    connectors,
    actionUris: createActionUriUseCases({
      store: createActionUriStore(table(tableNames.actionUris)),
      audit,
      allowedSchemes: config.actionUriSchemes,
    }),
    sync,
    audit,
    health: healthQueries,

    /** The caller of a request that needs `role`: a valid Entra token with it, or "local" when auth is off. */
    async authenticate(request: HttpRequest, role: Role, log: Logger): Promise<Actor> {
      try {
        return await authenticator.authenticate(request.headers.get('authorization'), role);
      } catch (error) {
        log.info('auth.refused', { role, reason: (error as Error).message });
        throw error;
      }
    },

    /** The instances that ran in the last 90 s (their heartbeats), for deep health. */
    liveInstances: () => instances.seenSince(now() - 90_000),

    checkDependencies: () =>
      Promise.all([
        timed('tables', () => connectorStore.ping()),
        timed('queue', () => queues.ping()),
        timed('keyVault', () => secrets.ping()),
      ]),

    /** The retention timer: delivery rows and audit entries older than their retention. */
    async purgeExpired() {
      const deliveriesRemoved = await deliveries.purgeBefore(now() - config.retention.deliveriesMs);
      const auditRemoved = await audit.purgeBefore(now() - config.retention.auditMs);
      return { deliveries: deliveriesRemoved, audit: auditRemoved };
    },

    /** Moves old-layout delivery pointers, a few thousand per call, until none are left. */
    async upgradeDeliveryLog(log: Logger) {
      let moved = 0;
      for (let round = 0; round < 10; round++) {
        const n = await deliveries.migrateLegacy(500);
        moved += n;
        if (n < 500) break;
      }
      if (moved) log.info('deliveries.pointers-moved', { moved });
    },

    /** The daily credential check: one warning line per connector whose secret expires soon or has. */
    async warnExpiringCredentials(log: Logger) {
      let token: string | undefined;
      let warned = 0;
      do {
        const page = await connectorStore.list({}, { size: 500, token });
        for (const c of page.items) {
          const status = credentialStatusOf(c, now(), config.credentialExpiryWarningMs);
          if (c.secretExpiresAt)
            instruments().credentialDays.record(Math.floor((Date.parse(c.secretExpiresAt) - now()) / 86_400_000), {
              ...connectorAttributes(c),
              status,
            });
          if (status !== 'expiring' && status !== 'expired') continue;
          warned++;
          log.warn('credentials.expiring', {
            connectorId: c.id,
            name: c.name,
            sourceApp: c.sourceApp,
            status,
            secretExpiresAt: c.secretExpiresAt,
            daysLeft: Math.floor((Date.parse(c.secretExpiresAt!) - now()) / 86_400_000),
          });
        }
        token = page.continuationToken ?? undefined;
      } while (token);
      log.info('credentials.checked', { warned });
    },
  };
}

/** This instance's row among the instances: written now, every 30 s, and removed when it stops. */
function startHeartbeat(store: InstanceStore, now: () => number, log: Logger) {
  const startedAt = now();
  const version = appVersion();
  const beat = () =>
    store
      .beat(instanceId, { name: instanceName, version, startedAt, at: now() })
      .catch((error: unknown) => log.warn('instance.heartbeat-failed', { error }));
  void beat();
  const timer = setInterval(() => void beat(), 30_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await store.remove(instanceId).catch(() => undefined);
    },
  };
}

export type Services = ReturnType<typeof createServices>;

let current: Services | undefined;

/** The process-wide services, built from the environment on first call. Throws ConfigError when settings are bad. */
export function getServices(): Services {
  current ??= createServices(loadConfig());
  return current;
}
