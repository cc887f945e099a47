// Use case: create a connector.
//   check -> keep the secret in Key Vault -> insert the record -> write its route -> audit
// A failed step undoes the ones before it, backwards, so a failure leaves no half-made connector and no orphan
// secret. The answer says how many appointments of the source app are known already (resync sends them).
import { type Audited, auditing } from '../audit/auditTrail';
import type { CallContext } from '../model/audit';
import { type Connector, type ConnectorInput, type StoredConnector, toPublicConnector } from '../model/connector';
import type { Versioned } from '../platform/etag';
import type { Logger } from '../platform/logging';
import { connectorSecretName, type SecretRef } from '../secrets/secretStore';
import { type CheckedConnector, checkConnector, fieldsOf } from './connectorRules';
import { type ConnectorDeps, undo } from './deps';

export interface CreatedConnector extends Versioned<Connector> {
  /** Appointments of the source app known to the service, not deleted (capped): resync sends them. */
  appointmentsKnown: number;
}

const KNOWN_CAP = 1_000_000;

export function createConnector(
  deps: ConnectorDeps,
  input: ConnectorInput,
  call: CallContext,
  log: Logger,
): Promise<CreatedConnector> {
  return auditing(deps.audit, call, log, { operation: 'connector.create', resourceType: 'connector' }, async () => {
    const password = input.password ?? null;
    const checked = checkConnector(input, { newPassword: password, hasPassword: Boolean(password) }, deps);
    const id = deps.newId();
    const secret = password ? await keepSecret(deps, id, password, input.secretExpiresAt ?? null) : undefined;
    const record = newRecord(id, input, checked, secret, new Date(deps.now()).toISOString());
    const etag = await insertRecord(deps, record, secret, log);
    await writeRoute(deps, record, etag, secret, log);
    const appointmentsKnown = await deps.latest.countLive(record.sourceApp, KNOWN_CAP);
    log.info('connector.created', {
      connectorId: id,
      sourceApp: record.sourceApp,
      backOffice: record.backOffice,
      authType: record.authType,
      appointmentsKnown,
    });
    return {
      value: { value: toPublicConnector(record, deps.now(), deps.credentialWarningMs), etag, appointmentsKnown },
      resourceId: id,
      changedFields: fieldsSet(record),
    } satisfies Audited<CreatedConnector>;
  });
}

function keepSecret(deps: ConnectorDeps, id: string, password: string, expiresAt: string | null) {
  return deps.secrets.set(connectorSecretName(id), password, expiresAt ? { expiresOn: new Date(expiresAt) } : {});
}

function newRecord(
  id: string,
  input: ConnectorInput,
  checked: CheckedConnector,
  secret: SecretRef | undefined,
  stamp: string,
): StoredConnector {
  return {
    id,
    ...fieldsOf(input, checked),
    hasPassword: Boolean(secret),
    secretExpiresAt: secret && input.secretExpiresAt ? new Date(input.secretExpiresAt).toISOString() : null,
    createdAt: stamp,
    updatedAt: stamp,
    secretName: secret?.name ?? null,
    secretVersion: secret?.version ?? null,
    revision: 1,
  };
}

async function insertRecord(deps: ConnectorDeps, record: StoredConnector, secret: SecretRef | undefined, log: Logger) {
  try {
    return await deps.store.insert(record);
  } catch (error) {
    if (secret) await undo(log, record.id, 'delete secret', () => deps.secrets.delete(secret.name));
    throw error;
  }
}

async function writeRoute(
  deps: ConnectorDeps,
  record: StoredConnector,
  etag: string,
  secret: SecretRef | undefined,
  log: Logger,
) {
  try {
    await deps.store.putRoute(record.sourceApp, record.id);
  } catch (error) {
    await undo(log, record.id, 'delete record', () => deps.store.deleteRecord(record.id, etag));
    if (secret) await undo(log, record.id, 'delete secret', () => deps.secrets.delete(secret.name));
    throw error;
  }
}

/** The fields a new connector sets, for the audit trail: names only, the password as "password". */
function fieldsSet(record: StoredConnector): string[] {
  const {
    id: _i,
    createdAt: _c,
    updatedAt: _u,
    secretName: _n,
    secretVersion: _v,
    revision: _r,
    hasPassword,
    ...rest
  } = record;
  return [
    ...Object.entries(rest)
      .filter(([, v]) => v !== null && v !== '')
      .map(([k]) => k),
    ...(hasPassword ? ['password'] : []),
  ].sort();
}
