// Action URI use cases: definitions checked when saved, one default per scope (the store's guard rows keep it
// under concurrency), every change audited; and rendering.
import { randomUUID } from 'node:crypto';
import { type AuditTrail, auditing, changedFields } from '../audit/auditTrail';
import type { ActionUri, ActionUriInput, UriType } from '../model/actionUri';
import type { CallContext } from '../model/audit';
import { caseKey } from '../model/text';
import { NotFoundError, PreconditionFailedError } from '../platform/errors';
import { ensureIfMatch, type Versioned } from '../platform/etag';
import type { Logger } from '../platform/logging';
import type { ActionUriStore } from '../stores/actionUriStore';
import { allowedSchemes, checkDefinition } from './actionUriRules';
import { createRenderer } from './renderActionUris';

export interface ActionUriDeps {
  store: ActionUriStore;
  audit: AuditTrail;
  allowedSchemes: string[];
  now?: () => Date;
}

const sameText = (a: string | null | undefined, b: string | null | undefined) => caseKey(a ?? '') === caseKey(b ?? '');

/** Without If-Match a replace or delete is unconditional for the caller: it reads again after a race. */
const MAX_ROUNDS = 5;

async function unconditionally<T>(ifMatch: string | undefined, run: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof PreconditionFailedError) || ifMatch !== undefined || round >= MAX_ROUNDS) throw error;
    }
  }
}

export function createActionUriUseCases(deps: ActionUriDeps) {
  const now = deps.now ?? (() => new Date());
  const allowed = allowedSchemes(deps.allowedSchemes);
  const renderer = createRenderer(deps.store);
  const audited = { resourceType: 'action-uri' } as const;

  async function load(id: string): Promise<Versioned<ActionUri>> {
    const found = await deps.store.byId(id);
    if (!found) throw new NotFoundError(`Action URI ${id} does not exist.`);
    return found;
  }

  return {
    create(input: ActionUriInput, call: CallContext, log: Logger): Promise<Versioned<ActionUri>> {
      return auditing(deps.audit, call, log, { ...audited, operation: 'action-uri.create' }, async () => {
        checkDefinition(input, allowed);
        const stamp = now().toISOString();
        const value: ActionUri = { ...input, id: randomUUID(), createdAt: stamp, updatedAt: stamp };
        const etag = await deps.store.insert(value);
        log.info('action-uri.created', { actionUriId: value.id, sourceApp: value.sourceApp, uriType: value.uriType });
        return { value: { value, etag }, resourceId: value.id, changedFields: Object.keys(input).sort() };
      });
    },

    replace(id: string, input: ActionUriInput, ifMatch: string | undefined, call: CallContext, log: Logger) {
      return auditing(deps.audit, call, log, { ...audited, operation: 'action-uri.replace', resourceId: id }, () =>
        unconditionally(ifMatch, async () => {
          const existing = await load(id);
          ensureIfMatch(ifMatch, existing.etag, `Action URI ${id}`);
          checkDefinition(input, allowed);
          const value: ActionUri = {
            ...input,
            id,
            createdAt: existing.value.createdAt,
            updatedAt: now().toISOString(),
          };
          // Conditional on the version read (If-Match, when sent, was checked against it).
          const etag = await deps.store.replace(existing.value, value, existing.etag);
          renderer.forget(id);
          log.info('action-uri.replaced', { actionUriId: id });
          const { updatedAt: _a, ...before } = existing.value;
          const { updatedAt: _b, ...after } = value;
          return { value: { value, etag }, resourceId: id, changedFields: changedFields(before, after) };
        }),
      );
    },

    remove(id: string, ifMatch: string | undefined, call: CallContext, log: Logger): Promise<void> {
      return auditing(deps.audit, call, log, { ...audited, operation: 'action-uri.delete', resourceId: id }, () =>
        unconditionally(ifMatch, async () => {
          const existing = await load(id);
          ensureIfMatch(ifMatch, existing.etag, `Action URI ${id}`);
          await deps.store.remove(existing.value, existing.etag);
          renderer.forget(id);
          log.info('action-uri.deleted', { actionUriId: id });
          return { value: undefined, resourceId: id };
        }),
      );
    },

    get: load,

    list: async (filter: { sourceApp?: string; sourceType?: string; uriType?: UriType }) =>
      (await deps.store.list({ sourceApp: filter.sourceApp })).filter(
        (a) =>
          (!filter.sourceType || sameText(a.sourceType, filter.sourceType)) &&
          (!filter.uriType || a.uriType === filter.uriType),
      ),

    render: renderer.render,
  };
}

export type ActionUriUseCases = ReturnType<typeof createActionUriUseCases>;
