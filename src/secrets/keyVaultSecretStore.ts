import type { TokenCredential } from '@azure/identity';
import type { SecretClient } from '@azure/keyvault-secrets';
import { boundedHttpClient, boundedRetryOptions } from '../platform/boundedHttp';
import type { AppConfig } from '../platform/config';
import { isLoopbackUrl } from '../platform/config';
import { remainingMs } from '../platform/deadline';
import { DependencyError, statusCodeOf } from '../platform/errors';
import { registerSecret } from '../platform/redact';
import type { SecretRef, SecretStore } from './secretStore';

/** The local emulator accepts any bearer token; a static one keeps the real SDK's challenge flow intact. */
const emulatorCredential: TokenCredential = {
  getToken: async () => ({ token: 'local-emulator', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** Recover-then-write rounds before a write that keeps meeting a soft-deleted name gives up. */
const MAX_SET_ROUNDS = 5;

export interface KeyVaultSecretStoreOptions {
  pollIntervalMs?: number;
  /** How long a delete or recover waits to see its result before it returns with the request accepted. */
  settleWithinMs?: number;
}

interface StartedOperation {
  poll(): Promise<void>;
  isDone(): boolean;
}

/**
 * Waits for a started delete or recover to show its result, but not forever. The SDK's pollUntilDone has no end,
 * and a concurrent writer of the same name (a connector DELETE racing PUTs: delete, recover, delete) can take
 * away the state it waits for. Past the wait the request stands accepted; whoever needs the name free or live
 * next (set, recover) retries the 409 of a pending operation.
 */
async function settle(operation: StartedOperation, intervalMs: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + Math.min(withinMs, remainingMs() - intervalMs);
  while (!operation.isDone() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    await operation.poll();
  }
}

export function createKeyVaultSecretStore(
  config: Pick<AppConfig, 'keyVault' | 'managedIdentityClientId'> & Partial<Pick<AppConfig, 'dependencies'>>,
  options: KeyVaultSecretStoreOptions = {},
): SecretStore {
  const local = config.keyVault.allowInsecure && isLoopbackUrl(config.keyVault.uri);
  const pollIntervalMs = options.pollIntervalMs ?? (local ? 50 : 2000);
  const settleWithinMs = options.settleWithinMs ?? (local ? 2_000 : 30_000);
  let client: SecretClient | undefined;
  // A secret version never changes, so a version once read can be served from memory (bounded, oldest out).
  // Each cached value is registered with the redactor while it is cached, and released when it leaves.
  const versions = new Map<string, { value: string; release: () => void }>();
  const forget = (key: string) => {
    versions.get(key)?.release();
    versions.delete(key);
  };
  const MAX_CACHED = 1000;
  const kv = (): SecretClient => {
    if (client) return client;
    const { SecretClient } = require('@azure/keyvault-secrets') as typeof import('@azure/keyvault-secrets');
    const credential = local
      ? emulatorCredential
      : new (require('@azure/identity') as typeof import('@azure/identity')).DefaultAzureCredential(
          config.managedIdentityClientId ? { managedIdentityClientId: config.managedIdentityClientId } : {},
        );
    client = new SecretClient(config.keyVault.uri, credential, {
      allowInsecureConnection: local,
      disableChallengeResourceVerification: local,
      httpClient: boundedHttpClient(config.dependencies),
      retryOptions: { ...boundedRetryOptions, maxRetries: local ? 1 : boundedRetryOptions.maxRetries },
    });
    return client;
  };

  const fail = (operation: string, error: unknown): never => {
    throw new DependencyError(
      `Key Vault ${operation} failed (status ${statusCodeOf(error) ?? 'none'}).`,
      'key-vault-unavailable',
      {
        cause: error,
      },
    );
  };

  const recover = async (name: string) => {
    // A delete that is still pending answers 409 to recover as well: retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await settle(await kv().beginRecoverDeletedSecret(name), pollIntervalMs, settleWithinMs);
        return;
      } catch (error) {
        if (statusCodeOf(error) === 404) return;
        if (statusCodeOf(error) !== 409 || attempt >= 10) throw error;
        await new Promise((r) => setTimeout(r, pollIntervalMs * 2 ** Math.min(attempt, 5)));
      }
    }
  };

  return {
    async set(name, value, options = {}) {
      const properties = {
        contentType: 'connector-credential',
        ...(options.expiresOn ? { expiresOn: options.expiresOn } : {}),
      };
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await kv().setSecret(name, value, properties);
          return { name, version: result.properties.version! };
        } catch (error) {
          // 409: the name is soft-deleted (the credential was cleared before, or a delete of the connector is
          // racing this write): bring it back, then write again.
          if (statusCodeOf(error) !== 409 || attempt >= MAX_SET_ROUNDS) return fail('write', error);
        }
        try {
          await recover(name);
        } catch (error) {
          return fail('write', error);
        }
      }
    },
    async get(ref: SecretRef) {
      const key = `${ref.name}/${ref.version}`;
      const cached = versions.get(key);
      if (cached !== undefined) return cached.value;
      try {
        const secret = await kv().getSecret(ref.name, { version: ref.version });
        if (secret.value !== undefined) {
          if (versions.size >= MAX_CACHED) forget(versions.keys().next().value!);
          versions.set(key, { value: secret.value, release: registerSecret(secret.value) });
        }
        return secret.value;
      } catch (error) {
        if (statusCodeOf(error) === 404) return undefined;
        return fail('read', error);
      }
    },
    async setExpiry(ref, expiresOn) {
      try {
        await kv().updateSecretProperties(ref.name, ref.version, { expiresOn });
      } catch (error) {
        fail('update', error);
      }
    },
    async disable(ref) {
      forget(`${ref.name}/${ref.version}`);
      try {
        await kv().updateSecretProperties(ref.name, ref.version, { enabled: false });
      } catch (error) {
        if (statusCodeOf(error) !== 404) fail('update', error);
      }
    },
    async delete(name) {
      try {
        await settle(await kv().beginDeleteSecret(name), pollIntervalMs, settleWithinMs);
      } catch (error) {
        if (statusCodeOf(error) !== 404) fail('delete', error);
      }
    },
    async recover(name) {
      try {
        await recover(name);
      } catch (error) {
        fail('recover', error);
      }
    },
    async ping() {
      try {
        await kv().listPropertiesOfSecrets().byPage({ maxPageSize: 1 }).next();
      } catch (error) {
        fail('list', error);
      }
    },
  };
}
