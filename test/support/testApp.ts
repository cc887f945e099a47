// Starts the real app (src/index.ts) through the host stand-in, against the run's Azurite and a Key Vault
// emulator of this test file's own. Every log line is captured so tests can search it for secrets.
import { randomBytes } from 'node:crypto';
import { type HostOptions, type RunningHost, startHost } from '../../src/local/host';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { azurite } from './azurite';
import { repoRoot } from './repoRoot';

export { repoRoot };

export interface TestApp {
  url: string;
  host: RunningHost;
  vault: KeyVaultEmulator;
  logs: string[];
  env: Record<string, string>;
  fetch(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

/** A queue name of this test file's own, so files running side by side never take each other's messages. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function startTestApp(
  options: { env?: Record<string, string>; entry?: string; hostSettings?: HostOptions['hostSettings'] } = {},
): Promise<TestApp> {
  const vault = new KeyVaultEmulator();
  await vault.start();
  const env: Record<string, string> = {
    AzureWebJobsStorage: azurite().connectionString,
    KEY_VAULT_URI: vault.url,
    KEY_VAULT_ALLOW_INSECURE: 'true',
    BACKOFFICE_ALLOW_LOOPBACK: 'true',
    APPOINTMENTS_QUEUE: uniqueName('appointments'),
    APPOINTMENT_RETRIES_QUEUE: uniqueName('retries'),
    RECOVERIES_QUEUE: uniqueName('recoveries'),
    // Tables of this file's own too: test files run side by side over one Azurite.
    TABLE_NAME_PREFIX: `t${randomBytes(4).toString('hex')}`,
    AUTH_MODE: 'off',
    POISON_SWEEP_SCHEDULE: '*/1 * * * * *',
    SYNC_CONNECTOR_CACHE_SECONDS: '0',
    SYNC_RETRY_DELAYS_SECONDS: '0',
    ...options.env,
  };
  Object.assign(process.env, env);
  const logs: string[] = [];
  const host = await startHost({
    appRoot: repoRoot,
    entry: options.entry ?? 'src/index.ts',
    port: 0,
    log: (level, category, message) => logs.push(`[${level}/${category}] ${message}`),
    hostSettings: {
      ...options.hostSettings,
      queues: { maxPollingIntervalMs: 250, visibilityTimeoutMs: 0, ...options.hostSettings?.queues },
    },
  });
  return {
    url: host.url,
    host,
    vault,
    logs,
    env,
    fetch(path, init = {}) {
      const { json, ...rest } = init;
      return fetch(`${host.url}${path}`, {
        ...rest,
        ...(json !== undefined
          ? {
              body: JSON.stringify(json),
              headers: { 'content-type': 'application/json', ...(rest.headers as Record<string, string>) },
            }
          : {}),
      });
    },
    async stop() {
      await host.stop();
      await vault.stop();
    },
  };
}

/** A response body as loosely typed JSON: tests assert its shape themselves. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
export const jsonOf = (res: Response): Promise<any> => res.json();
