// Connector shapes: what a client sends (input), what it gets back (public) and what the table keeps (stored).
// The password is write-only: it lives in Key Vault and is part of no output.
import { z } from 'zod';
import { unlessMissing } from '../platform/validation';
import { noControlChars, sourceAppSchema, sourceTypeSchema, text } from './text';

export const backOffices = ['bc-online', 'bc-onprem', 'nav', 'webhook'] as const;
export const apiTypes = ['rest', 'soap'] as const;
export const authTypes = [
  'none',
  'basic',
  'ntlm',
  'oauth2-client-credentials',
  'managed-identity',
  'signing-secret',
] as const;
export const databaseActions = ['I', 'U', 'D'] as const;

export type BackOffice = (typeof backOffices)[number];
export type ApiType = (typeof apiTypes)[number];
export type AuthType = (typeof authTypes)[number];
export type DatabaseAction = (typeof databaseActions)[number];

/** Properties a GET returns that a client cannot set: a body read with GET can be sent back with PUT. */
const readOnly = <T extends z.ZodType>(schema: T) => schema.optional().meta({ readOnly: true });

const connectorFields = {
  name: text().min(1).max(100).regex(noControlChars, 'must not contain control characters'),
  description: text().max(1000).default(''),
  sourceApp: sourceAppSchema,
  sourceType: sourceTypeSchema.nullable().default(null).describe('null: every source type of the source app'),
  backOffice: z.enum(backOffices),
  apiType: z.enum(apiTypes).optional().describe('default: soap for nav, rest otherwise; a webhook is rest only'),
  sendAppointments: z.boolean().default(true),
  databaseActions: z
    .array(z.enum(databaseActions))
    .min(1)
    .max(3)
    .refine((a) => new Set(a).size === a.length, 'must not repeat an action')
    .default(['I', 'U', 'D'])
    .describe('which changes to send: I insert, U update, D delete'),
  webServiceUri: text().min(1).max(2048),
  authType: z.enum(authTypes).optional().describe('derived from backOffice and the credentials when absent'),
  login: text().max(256).regex(noControlChars, 'must not contain control characters').nullable().optional(),
};

export const connectorInputSchema = z
  .strictObject({
    ...connectorFields,
    password: text()
      .max(8192)
      .nullable()
      .optional()
      .describe('write-only; on PUT, omit to keep the stored one, null to clear it'),
    secretExpiresAt: z.iso
      .datetime({ offset: true, error: unlessMissing('must be an ISO 8601 date and time with an offset') })
      .nullable()
      .optional()
      .describe("when the secret (client secret, password) expires; kept as the Key Vault secret's expiry"),
    id: readOnly(z.unknown()),
    hasPassword: readOnly(z.unknown()),
    credentialStatus: readOnly(z.unknown()),
    createdAt: readOnly(z.unknown()),
    updatedAt: readOnly(z.unknown()),
  })
  .transform(({ id: _id, hasPassword: _h, credentialStatus: _s, createdAt: _c, updatedAt: _u, ...input }) => input)
  .meta({ title: 'ConnectorInput' });

export type ConnectorInput = z.output<typeof connectorInputSchema>;

export const credentialStatuses = ['ok', 'expiring', 'expired', 'none'] as const;
export type CredentialStatus = (typeof credentialStatuses)[number];

export const connectorSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    sourceApp: z.string(),
    sourceType: z.string().nullable(),
    backOffice: z.enum(backOffices),
    apiType: z.enum(apiTypes),
    sendAppointments: z.boolean(),
    databaseActions: z.array(z.enum(databaseActions)),
    webServiceUri: z.string(),
    authType: z.enum(authTypes),
    login: z.string().nullable(),
    hasPassword: z.boolean(),
    secretExpiresAt: z.iso.datetime().nullable(),
    credentialStatus: z
      .enum(credentialStatuses)
      .describe('ok; expiring (within CREDENTIAL_EXPIRY_WARNING_DAYS); expired; none (no secret, or no expiry given)'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ title: 'Connector' });

export type Connector = z.output<typeof connectorSchema>;

/** The record the table keeps: the public shape (less what is computed) plus the Key Vault reference. */
export const storedConnectorSchema = connectorSchema.omit({ credentialStatus: true }).extend({
  secretName: z.string().nullable(),
  secretVersion: z.string().nullable(),
  /** Increases with every save. */
  revision: z.number().int().nonnegative(),
});

export type StoredConnector = z.output<typeof storedConnectorSchema>;

export function credentialStatusOf(
  c: Pick<StoredConnector, 'hasPassword' | 'secretExpiresAt'>,
  nowMs: number,
  warningMs: number,
): CredentialStatus {
  if (!c.hasPassword || !c.secretExpiresAt) return 'none';
  const expires = Date.parse(c.secretExpiresAt);
  if (expires <= nowMs) return 'expired';
  return expires <= nowMs + warningMs ? 'expiring' : 'ok';
}

export function toPublicConnector(c: StoredConnector, nowMs: number, warningMs: number): Connector {
  const { secretName: _n, secretVersion: _v, revision: _r, ...rest } = c;
  return { ...rest, credentialStatus: credentialStatusOf(c, nowMs, warningMs) };
}

export const connectorListQuerySchema = z.strictObject({
  sourceApp: sourceAppSchema.optional(),
  backOffice: z.enum(backOffices).optional(),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
  continuationToken: z
    .string()
    .max(2048)
    .regex(/^[A-Za-z0-9+/=_-]+$/, 'must be a token returned by a previous page')
    .optional(),
});

export const connectorListSchema = z.object({
  items: z.array(connectorSchema),
  continuationToken: z.string().nullable(),
});
