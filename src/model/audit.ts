// The audit trail: who changed which configuration, tested which connection, replayed or recovered what.
import { z } from 'zod';

/** Who called: from the caller's Entra token, or "local" when AUTH_MODE is off. */
export const actorSchema = z
  .object({
    kind: z.enum(['user', 'app', 'local']),
    /** The caller's object id (oid) in Entra; null locally. */
    objectId: z.string().nullable(),
    /** The calling application (azp/appid); null locally. */
    appId: z.string().nullable(),
    /** A display name or user principal name, when the token has one. */
    name: z.string().nullable(),
  })
  .meta({ title: 'Actor' });
export type Actor = z.output<typeof actorSchema>;

export const localActor: Actor = { kind: 'local', objectId: null, appId: null, name: 'local' };

/** The key an actor is filtered by: the object id, else the app id, else "local". */
export const actorKey = (actor: Actor): string => actor.objectId ?? actor.appId ?? 'local';

export const auditOperations = [
  'connector.create',
  'connector.replace',
  'connector.delete',
  'connector.test',
  'action-uri.create',
  'action-uri.replace',
  'action-uri.delete',
  'delivery.replay',
  'connector.recover',
  'connector.resync',
] as const;
export type AuditOperation = (typeof auditOperations)[number];

export const auditResourceTypes = ['connector', 'action-uri', 'delivery'] as const;
export type AuditResourceType = (typeof auditResourceTypes)[number];

export const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    actor: actorSchema,
    operation: z.enum(auditOperations),
    resourceType: z.enum(auditResourceTypes),
    resourceId: z.string(),
    /** Names of the fields that changed; a secret is only ever "password" (its value is never kept). */
    changedFields: z.array(z.string()),
    outcome: z.enum(['succeeded', 'failed']),
    /** A short, secret-free account: a diagnosis code, a count, an error code. */
    detail: z.string().nullable(),
    correlationId: z.string().nullable(),
  })
  .meta({ title: 'AuditEntry' });
export type AuditEntry = z.output<typeof auditEntrySchema>;

/** What a use case knows about the call it serves. */
export interface CallContext {
  actor: Actor;
  correlationId: string | null;
}
