// Storage clients from the storage setting: a connection string (Azurite, or keys) or identity-based URIs.
// The SDKs are required lazily: a cold start that serves /api/health should not pay for them.
import type { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type { QueueServiceClient } from '@azure/storage-queue';
import { boundedHttpClient, boundedRetryOptions } from './boundedHttp';
import type { AppConfig } from './config';
import type { Bounds } from './deadline';

export type StorageTarget = AppConfig['storage'];

/** Resolves a binding's `connection` the way the host does: the setting itself, else its `__` properties. */
export function storageTargetFromEnv(
  connection: string,
  env: NodeJS.ProcessEnv = process.env,
): StorageTarget | undefined {
  const value = env[connection]?.trim();
  if (value) return { kind: 'connectionString', connectionString: value };
  const tableServiceUri = env[`${connection}__tableServiceUri`];
  const queueServiceUri = env[`${connection}__queueServiceUri`];
  if (!queueServiceUri || !tableServiceUri) return undefined;
  return { kind: 'identity', tableServiceUri, queueServiceUri, clientId: env[`${connection}__clientId`] };
}

const isHttp = (connectionString: string) =>
  /UseDevelopmentStorage=true/i.test(connectionString) ||
  /DefaultEndpointsProtocol=http;/i.test(connectionString) ||
  /Endpoint=http:/i.test(connectionString);

function credentialFor(clientId: string | undefined): TokenCredential {
  const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}

/**
 * A queue service client. `callerRetries: true`: the SDK tries each call once, because the caller bounds and
 * retries it (platform/boundedHttp.ts `boundedCall`); otherwise (the host stand-in's listener) the SDK tries
 * three times, a second or two apart.
 */
export function createQueueServiceClient(
  target: StorageTarget,
  options: { callerRetries?: boolean } = {},
): QueueServiceClient {
  const { QueueServiceClient } = require('@azure/storage-queue') as typeof import('@azure/storage-queue');
  const pipeline = {
    retryOptions: options.callerRetries
      ? { maxTries: 1 }
      : { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 2000 },
  };
  return target.kind === 'connectionString'
    ? QueueServiceClient.fromConnectionString(target.connectionString, pipeline)
    : new QueueServiceClient(target.queueServiceUri, credentialFor(target.clientId), pipeline);
}

/** A table client whose every call has a per-try timeout and an overall deadline. */
export function createTableClient(target: StorageTarget, table: string, bounds?: Bounds): TableClient {
  const { TableClient } = require('@azure/data-tables') as typeof import('@azure/data-tables');
  const bounded = { httpClient: boundedHttpClient(bounds), retryOptions: boundedRetryOptions };
  return target.kind === 'connectionString'
    ? TableClient.fromConnectionString(target.connectionString, table, {
        allowInsecureConnection: isHttp(target.connectionString),
        ...bounded,
      })
    : new TableClient(target.tableServiceUri, table, credentialFor(target.clientId), bounded);
}

/** Base64 text, the queue trigger's default encoding: producers must encode, the SDK sends text as is. */
export const encodeQueueMessage = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64');

/** Strict base64 as .NET's Convert.FromBase64String reads it; null when the text is not base64. */
export function decodeBase64Strict(text: string): string | null {
  const compact = text.replace(/[\s]/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return null;
  return Buffer.from(compact, 'base64').toString('utf8');
}
