// Connector shapes: what a client sends (input), what it gets back (public). The stored shape is in
// connectorStore.ts; the password is write-only and never part of either output.
import { z } from 'zod';

export const backOffices = ['bc-online', 'bc-onprem', 'nav', 'webhook'] as const;
export const apiTypes = ['rest', 'soap'] as const;
export const authTypes = ['none', 'basic', 'oauth2-client-credentials', 'managed-identity', 'signing-secret'] as const;
export const databaseActions = ['I', 'U', 'D'] as const;

export type BackOffice = (typeof backOffices)[number];
export type ApiType = (typeof apiTypes)[number];
export type AuthType = (typeof authTypes)[number];
export type DatabaseAction = (typeof databaseActions)[number];

// biome-ignore lint/suspicious/noControlCharactersInRegex: this pattern exists to refuse control characters
const noControlChars = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const noEdgeSpaces = /^(\S(.*\S)?)?$/s;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that is well-formed Unicode: a lone surrogate cannot be encoded into a URI, a key or a header. */
export const text = () => z.string().refine((s) => !loneSurrogate.test(s), 'must be well-formed Unicode text');

export const sourceAppSchema = text()
  .min(1)
  .max(30)
  .regex(noControlChars, 'must not contain control characters')
  .regex(noEdgeSpaces, 'must not start or end with spaces')
  .describe(
    'The source application code the back office stamps on its jobs and tasks (1-30 characters; compared case-insensitively)',
  );

export const sourceTypeSchema = text()
  .min(1)
  .max(10)
  .regex(noControlChars, 'must not contain control characters')
  .regex(noEdgeSpaces, 'must not start or end with spaces');

export const connectorInputSchema = z
  .strictObject({
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
    password: text()
      .max(8192)
      .nullable()
      .optional()
      .describe('write-only; on PUT, omit to keep the stored one, null to clear it'),
  })
  .meta({ title: 'ConnectorInput' });

export type ConnectorInput = z.output<typeof connectorInputSchema>;

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
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ title: 'Connector' });

export type Connector = z.output<typeof connectorSchema>;

export const connectorListSchema = z.object({
  items: z.array(connectorSchema),
  continuationToken: z.string().nullable(),
});

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

/** Case-insensitive routing key of a source app. */
export const normaliseSourceApp = (sourceApp: string): string => sourceApp.toUpperCase();
