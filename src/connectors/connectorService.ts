// Connector use cases. Write order keeps Key Vault and the table consistent:
//   create:  secret -> record -> routing copy      (undo backwards on failure)
//   replace: new secret version -> record (ETag) -> routing copy; a replaced secret version is disabled on failure
//   delete:  routing copy -> secret (soft delete) -> record (ETag); undone (route back, secret recovered) on failure
import { randomUUID } from 'node:crypto';
import { checkWebServiceUri } from '../backOffice/uriGuard';
import { type FieldError, NotFoundError, ValidationError } from '../platform/errors';
import { ensureIfMatch, type Versioned } from '../platform/etag';
import { type Logger, silentLogger } from '../platform/logging';
import { connectorSecretName, type SecretRef, type SecretStore } from '../secrets/secretStore';
import type { ConnectorStore, Page, StoredConnector } from './connectorStore';
import { resolveAuthType } from './credentials';
import type { ApiType, Connector, ConnectorInput } from './model';

export interface ConnectorServiceDeps {
  store: ConnectorStore;
  secrets: SecretStore;
  allowLoopback: boolean;
  now?: () => Date;
  newId?: () => string;
}

export function toPublic(c: StoredConnector): Connector {
  const { secretName: _n, secretVersion: _v, revision: _r, ...rest } = c;
  return rest;
}

function defaultApiType(backOffice: ConnectorInput['backOffice']): ApiType {
  return backOffice === 'nav' ? 'soap' : 'rest';
}

export function createConnectorService(deps: ConnectorServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;

  /** Everything that needs more than one field: API type, URI guard, credentials. Throws with every problem. */
  function validate(input: ConnectorInput, passwordState: { newPassword: string | null; hasPassword: boolean }) {
    const errors: FieldError[] = [];
    const apiType = input.apiType ?? defaultApiType(input.backOffice);
    if (input.backOffice === 'webhook' && apiType !== 'rest') {
      errors.push({ path: 'apiType', code: 'webhook-rest-only', message: 'a webhook connector is rest only' });
    }
    const uriProblem = checkWebServiceUri(input.webServiceUri, input.backOffice, { allowLoopback: deps.allowLoopback });
    if (uriProblem) errors.push({ path: 'webServiceUri', code: uriProblem.rule, message: uriProblem.message });
    const login = input.login?.trim() ? input.login : null;
    const { authType, errors: credentialErrors } = resolveAuthType({
      backOffice: input.backOffice,
      authType: input.authType,
      login,
      password: passwordState.newPassword,
      hasPassword: passwordState.hasPassword,
    });
    errors.push(...credentialErrors);
    if (errors.length) throw new ValidationError('The connector is not valid.', errors);
    return { apiType, authType, login };
  }

  const bestEffort = async (log: Logger, what: string, id: string, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (error) {
      log.error('connector.compensation-failed', { connectorId: id, step: what, error });
    }
  };

  async function load(id: string): Promise<Versioned<StoredConnector>> {
    const found = await deps.store.get(id);
    if (!found) throw new NotFoundError(`Connector ${id} does not exist.`);
    return { value: found.connector, etag: found.etag };
  }

  /** The routing copy must follow the record; retried because a stale copy misroutes the sync. */
  async function writeRoute(connector: StoredConnector): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.store.upsertRoute(connector);
      } catch (error) {
        if (attempt >= 3) throw error;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  return {
    async create(input: ConnectorInput, log: Logger = silentLogger): Promise<Versioned<Connector>> {
      const password = input.password ?? null;
      const { apiType, authType, login } = validate(input, { newPassword: password, hasPassword: Boolean(password) });
      const id = newId();
      const stamp = now().toISOString();
      const secret: SecretRef | undefined = password
        ? await deps.secrets.set(connectorSecretName(id), password)
        : undefined;
      const record: StoredConnector = {
        id,
        name: input.name,
        description: input.description,
        sourceApp: input.sourceApp,
        sourceType: input.sourceType,
        backOffice: input.backOffice,
        apiType,
        sendAppointments: input.sendAppointments,
        databaseActions: input.databaseActions,
        webServiceUri: input.webServiceUri,
        authType,
        login,
        hasPassword: Boolean(secret),
        createdAt: stamp,
        updatedAt: stamp,
        secretName: secret?.name ?? null,
        secretVersion: secret?.version ?? null,
        revision: 1,
      };
      let etag: string;
      try {
        etag = await deps.store.insert(record);
      } catch (error) {
        if (secret) await bestEffort(log, 'delete secret', id, () => deps.secrets.delete(secret.name));
        throw error;
      }
      try {
        await writeRoute(record);
      } catch (error) {
        await bestEffort(log, 'delete record', id, () => deps.store.deleteRecord(id, etag));
        if (secret) await bestEffort(log, 'delete secret', id, () => deps.secrets.delete(secret.name));
        throw error;
      }
      log.info('connector.created', {
        connectorId: id,
        sourceApp: record.sourceApp,
        backOffice: record.backOffice,
        authType,
      });
      return { value: toPublic(record), etag };
    },

    async get(id: string): Promise<Versioned<Connector>> {
      const { value, etag } = await load(id);
      return { value: toPublic(value), etag };
    },

    async list(
      filter: { sourceApp?: string; backOffice?: ConnectorInput['backOffice'] },
      page: { size: number; token?: string },
    ): Promise<Page<Connector>> {
      const result = await deps.store.list(filter, page);
      return { items: result.items.map(toPublic), continuationToken: result.continuationToken };
    },

    async replace(
      id: string,
      input: ConnectorInput,
      ifMatch: string | undefined,
      log: Logger = silentLogger,
    ): Promise<Versioned<Connector>> {
      const existing = await load(id);
      ensureIfMatch(ifMatch, existing.etag, `Connector ${id}`);
      const old = existing.value;
      const keep = input.password === undefined;
      const newPassword = keep ? null : input.password || null;
      const hasPassword = keep ? old.hasPassword : Boolean(newPassword);
      const checked = validate(input, { newPassword, hasPassword });
      if (keep && old.hasPassword && checked.authType !== old.authType) {
        throw new ValidationError('The connector is not valid.', [
          {
            path: 'password',
            code: 'required',
            message: `must be sent again when the authentication changes (${old.authType} to ${checked.authType})`,
          },
        ]);
      }
      const secret = newPassword ? await deps.secrets.set(connectorSecretName(id), newPassword) : undefined;
      const record: StoredConnector = {
        ...old,
        name: input.name,
        description: input.description,
        sourceApp: input.sourceApp,
        sourceType: input.sourceType,
        backOffice: input.backOffice,
        apiType: checked.apiType,
        sendAppointments: input.sendAppointments,
        databaseActions: input.databaseActions,
        webServiceUri: input.webServiceUri,
        authType: checked.authType,
        login: checked.login,
        hasPassword,
        updatedAt: now().toISOString(),
        secretName: secret?.name ?? (hasPassword ? old.secretName : null),
        secretVersion: secret?.version ?? (hasPassword ? old.secretVersion : null),
        revision: old.revision + 1,
      };
      let etag: string;
      try {
        etag = await deps.store.replace(record, ifMatch === '*' ? undefined : (ifMatch ?? undefined));
      } catch (error) {
        if (secret) await bestEffort(log, 'disable new secret version', id, () => deps.secrets.disable(secret));
        throw error;
      }
      if (old.sourceApp.toUpperCase() !== record.sourceApp.toUpperCase())
        await deps.store.deleteRoute(old.sourceApp, id);
      await writeRoute(record);
      if (!hasPassword && old.secretName)
        await bestEffort(log, 'delete cleared secret', id, () => deps.secrets.delete(old.secretName!));
      log.info('connector.replaced', {
        connectorId: id,
        sourceApp: record.sourceApp,
        authType: record.authType,
        passwordChanged: !keep,
      });
      return { value: toPublic(record), etag };
    },

    async remove(id: string, ifMatch: string | undefined, log: Logger = silentLogger): Promise<void> {
      const existing = await load(id);
      ensureIfMatch(ifMatch, existing.etag, `Connector ${id}`);
      const c = existing.value;
      await deps.store.deleteRoute(c.sourceApp, id);
      if (c.secretName) {
        try {
          await deps.secrets.delete(c.secretName);
        } catch (error) {
          await bestEffort(log, 'restore routing copy', id, () => writeRoute(c));
          throw error;
        }
      }
      try {
        await deps.store.deleteRecord(id, existing.etag);
      } catch (error) {
        if (c.secretName) await bestEffort(log, 'recover secret', id, () => deps.secrets.recover(c.secretName!));
        await bestEffort(log, 'restore routing copy', id, () => writeRoute(c));
        throw error;
      }
      log.info('connector.deleted', { connectorId: id, sourceApp: c.sourceApp });
    },

    /** For the sync: the connectors of a source app, as routed (case-insensitive). */
    forSourceApp: (sourceApp: string) => deps.store.listBySourceApp(sourceApp),
  };
}

export type ConnectorService = ReturnType<typeof createConnectorService>;
