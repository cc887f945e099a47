// The composition root: the one place that wires real adapters. Everything is built on first use,
// so a cold start pays only for what the first invocation needs.
import { type ActionUriService, createActionUriService } from './actionUris/actionUriService';
import { createActionUriStore } from './actionUris/actionUriStore';
import { type BackOfficeClient, createBackOfficeClient, type Diagnosis } from './backOffice/backOfficeClient';
import { createConnectionTester } from './backOffice/connectionTest';
import { createOutboundHttp } from './backOffice/outboundHttp';
import { createTokenService } from './backOffice/tokens';
import { type ConnectorService, createConnectorService } from './connectors/connectorService';
import { createConnectorStore } from './connectors/connectorStore';
import { type AppConfig, loadConfig } from './platform/config';
import type { Logger } from './platform/logging';
import { tableNames } from './platform/resourceNames';
import { createStorage, type Storage } from './platform/storage';
import { createKeyVaultSecretStore } from './secrets/keyVaultSecretStore';
import type { SecretStore } from './secrets/secretStore';
import { cachedBySourceApp } from './sync/connectorCache';
import { createDeliveryLog } from './sync/deliveryLog';
import { KeyedLimiter } from './sync/limiter';
import { createSyncQueues } from './sync/syncQueues';
import { createSyncService, type SyncService } from './sync/syncService';
import { createSyncState } from './sync/syncState';

export interface HealthCheck {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
}

export interface Services {
  config: AppConfig;
  storage: Storage;
  secretStore: SecretStore;
  connectors: ConnectorService;
  backOffice: BackOfficeClient;
  testConnection(id: string, log: Logger): Promise<Diagnosis>;
  sync: SyncService;
  actionUris: ActionUriService;
  checkDependencies(): Promise<HealthCheck[]>;
}

export interface ServiceOverrides {
  storage?: Storage;
  secretStore?: SecretStore;
  backOffice?: BackOfficeClient;
}

export function createServices(config: AppConfig, overrides: ServiceOverrides = {}): Services {
  const storage = overrides.storage ?? createStorage(config);
  const secretStore = overrides.secretStore ?? createKeyVaultSecretStore(config);

  const timed = async (name: string, probe: () => Promise<unknown>): Promise<HealthCheck> => {
    const started = performance.now();
    try {
      await probe();
      return { name, ok: true, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      const e = error as { code?: string; message?: string };
      return { name, ok: false, durationMs: Math.round(performance.now() - started), error: e.code ?? 'unavailable' };
    }
  };

  const connectorStore = createConnectorStore(() => storage.table(tableNames.connectors));
  const connectors = createConnectorService({
    store: connectorStore,
    secrets: secretStore,
    allowLoopback: config.backOfficeAllowLoopback,
  });
  const backOffice =
    overrides.backOffice ??
    createBackOfficeClient({
      http: createOutboundHttp({ allowLoopback: config.backOfficeAllowLoopback }),
      tokens: createTokenService({
        entraAuthorityHost: config.entraAuthorityHost,
        managedIdentityClientId: config.managedIdentityClientId,
      }),
      allowLoopback: config.backOfficeAllowLoopback,
    });

  return {
    config,
    storage,
    secretStore,
    connectors,
    backOffice,
    testConnection: createConnectionTester({ store: connectorStore, secrets: secretStore, backOffice }),
    actionUris: createActionUriService({
      store: createActionUriStore(() => storage.table(tableNames.actionUris)),
      allowedSchemes: config.actionUriSchemes,
    }),
    sync: createSyncService({
      connectorsOf: cachedBySourceApp((app) => connectorStore.listBySourceApp(app), config.sync.connectorCacheMs),
      connectorById: async (id) => (await connectorStore.get(id))?.connector,
      secrets: secretStore,
      backOffice,
      deliveries: createDeliveryLog(() => storage.table(tableNames.deliveries)),
      state: createSyncState(() => storage.table(tableNames.syncState)),
      queues: createSyncQueues(storage, config.queues),
      policy: { delaysMs: config.sync.retryDelaysMs, horizonMs: config.sync.retryHorizonMs },
      limiter: new KeyedLimiter(config.sync.maxConcurrencyPerConnector),
    }),
    checkDependencies: () =>
      Promise.all([
        timed('tables', async () => {
          const client = await storage.table(tableNames.connectors);
          await client
            .listEntities({ queryOptions: { select: ['PartitionKey'] } })
            .byPage({ maxPageSize: 1 })
            .next();
        }),
        timed('queue', async () => (await storage.queue(config.queues.appointments)).getProperties()),
        timed('keyVault', () => secretStore.ping()),
      ]),
  };
}

let current: Services | undefined;

/** The process-wide services, built from the environment on first call. Throws ConfigError when settings are bad. */
export function getServices(): Services {
  current ??= createServices(loadConfig());
  return current;
}
