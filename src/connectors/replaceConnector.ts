// Use case: replace a connector.
//   read -> If-Match -> check -> keep a new secret version (if a password came) -> route to the (new) source
//   app -> replace the record, conditional on the version read -> drop the old route and a cleared secret
// The record is the commit point. Before it, a failure is undone (the new version disabled, a new route
// removed); after it, leftovers are harmless: routing reads the record, so an old route is ignored.
// Without If-Match the replace is unconditional for the caller: a concurrent change makes it read and try
// again, so it never answers 412 and never writes back a secret reference it did not read last.
import { auditing, changedFields } from '../audit/auditTrail';
import type { CallContext } from '../model/audit';
import { type Connector, type ConnectorInput, type StoredConnector, toPublicConnector } from '../model/connector';
import { sourceAppKey } from '../model/text';
import { NotFoundError, PreconditionFailedError, ValidationError } from '../platform/errors';
import { ensureIfMatch, type Versioned } from '../platform/etag';
import type { Logger } from '../platform/logging';
import { connectorSecretName, type SecretRef } from '../secrets/secretStore';
import { checkConnector, fieldsOf } from './connectorRules';
import { type ConnectorDeps, MAX_UNCONDITIONAL_ROUNDS, undo } from './deps';

export function replaceConnector(
  deps: ConnectorDeps,
  id: string,
  input: ConnectorInput,
  ifMatch: string | undefined,
  call: CallContext,
  log: Logger,
): Promise<Versioned<Connector>> {
  return auditing(
    deps.audit,
    call,
    log,
    { operation: 'connector.replace', resourceType: 'connector', resourceId: id },
    async () => {
      for (let round = 1; ; round++) {
        try {
          const { before, after, etag } = await replaceOnce(deps, id, input, ifMatch, log);
          log.info('connector.replaced', {
            connectorId: id,
            sourceApp: after.sourceApp,
            authType: after.authType,
            passwordChanged: input.password !== undefined,
          });
          return {
            value: { value: toPublicConnector(after, deps.now(), deps.credentialWarningMs), etag },
            resourceId: id,
            changedFields: fieldsChanged(before, after, input),
          };
        } catch (error) {
          const retry =
            error instanceof PreconditionFailedError && ifMatch === undefined && round < MAX_UNCONDITIONAL_ROUNDS;
          if (!retry) throw error;
        }
      }
    },
  );
}

async function replaceOnce(
  deps: ConnectorDeps,
  id: string,
  input: ConnectorInput,
  ifMatch: string | undefined,
  log: Logger,
): Promise<{ before: StoredConnector; after: StoredConnector; etag: string }> {
  const existing = await deps.store.get(id);
  if (!existing) throw new NotFoundError(`Connector ${id} does not exist.`);
  ensureIfMatch(ifMatch, existing.etag, `Connector ${id}`);
  const before = existing.value;
  const keep = input.password === undefined;
  const newPassword = keep ? null : input.password || null;
  const hasPassword = keep ? before.hasPassword : Boolean(newPassword);
  const checked = checkConnector(input, { newPassword, hasPassword }, deps);
  if (keep && before.hasPassword && checked.authType !== before.authType) {
    throw new ValidationError('The connector is not valid.', [
      {
        path: 'password',
        code: 'required',
        message: `must be sent again when the authentication changes (${before.authType} to ${checked.authType})`,
      },
    ]);
  }
  const expiresAt = hasPassword && input.secretExpiresAt ? new Date(input.secretExpiresAt).toISOString() : null;
  const secret = newPassword
    ? await deps.secrets.set(connectorSecretName(id), newPassword, expiresAt ? { expiresOn: new Date(expiresAt) } : {})
    : undefined;
  const after: StoredConnector = {
    ...before,
    ...fieldsOf(input, checked),
    hasPassword,
    secretExpiresAt: expiresAt,
    updatedAt: new Date(deps.now()).toISOString(),
    secretName: secret?.name ?? (hasPassword ? before.secretName : null),
    secretVersion: secret?.version ?? (hasPassword ? before.secretVersion : null),
    revision: before.revision + 1,
  };
  const movesApp = sourceAppKey(before.sourceApp) !== sourceAppKey(after.sourceApp);
  const undoNew = async (error: unknown) => {
    // Deleted meanwhile: the secret goes with it (writing the new version may have recovered the deleted one).
    if (secret && error instanceof NotFoundError)
      await undo(log, id, 'delete the secret of the deleted connector', () => deps.secrets.delete(secret.name));
    else if (secret) await undo(log, id, 'disable the new secret version', () => deps.secrets.disable(secret));
    if (movesApp) await undo(log, id, 'remove the new route', () => deps.store.deleteRoute(after.sourceApp, id));
  };

  try {
    if (!secret && expiresAt && expiresAt !== before.secretExpiresAt) await keepExpiry(deps, after);
    if (movesApp) await deps.store.putRoute(after.sourceApp, id);
    const etag = await deps.store.replace(after, existing.etag);
    await tidyUp(deps, before, after, movesApp, log);
    return { before, after, etag };
  } catch (error) {
    await undoNew(error);
    throw error;
  }
}

function keepExpiry(deps: ConnectorDeps, connector: StoredConnector): Promise<void> {
  const ref: SecretRef = { name: connector.secretName!, version: connector.secretVersion! };
  return deps.secrets.setExpiry(ref, new Date(connector.secretExpiresAt!));
}

/** After the commit: what is left of the old version goes; a failure here only leaves harmless leftovers. */
async function tidyUp(
  deps: ConnectorDeps,
  before: StoredConnector,
  after: StoredConnector,
  movedApp: boolean,
  log: Logger,
): Promise<void> {
  if (movedApp)
    await undo(log, after.id, 'remove the old route', () => deps.store.deleteRoute(before.sourceApp, after.id));
  if (!after.hasPassword && before.secretName)
    await undo(log, after.id, 'delete the cleared secret', () => deps.secrets.delete(before.secretName!));
}

function fieldsChanged(before: StoredConnector, after: StoredConnector, input: ConnectorInput): string[] {
  const visible = (c: StoredConnector) => {
    const { updatedAt: _u, secretName: _n, secretVersion: _v, revision: _r, hasPassword: _h, ...rest } = c;
    return rest;
  };
  const fields = changedFields(visible(before), visible(after));
  if (input.password !== undefined) fields.push('password');
  return fields.sort();
}
