// Action URI shapes and the records they are rendered with. Field names are the record's; a #TOKEN# is the
// upper-cased field name (#JOBNO# is jobNo), an RFC 6570 expression uses the name itself ({jobNo}).
import { z } from 'zod';
import { guidSchema, sourceAppSchema, sourceTypeSchema, text } from './text';

export const uriTypes = ['planningBoard', 'appointment', 'task', 'map'] as const;
export type UriType = (typeof uriTypes)[number];

const actionUriFields = {
  sourceApp: sourceAppSchema,
  sourceType: sourceTypeSchema.nullable().default(null).describe('null: every source type of the source app'),
  uriType: z.enum(uriTypes),
  template: text().min(1).max(1000).describe('RFC 6570 level 4 expressions and #TOKEN# placeholders'),
  description: text().max(255).default(''),
  isDefault: z.boolean().default(false).describe('at most one default per source app, source type and URI type'),
  requestType: z.enum(['GET', 'POST']).default('GET'),
};

/** What a client sends; the read-only properties of a GET body are accepted and ignored, so it can be PUT back. */
export const actionUriInputSchema = z
  .strictObject({
    ...actionUriFields,
    id: z.unknown().optional().meta({ readOnly: true }),
    createdAt: z.unknown().optional().meta({ readOnly: true }),
    updatedAt: z.unknown().optional().meta({ readOnly: true }),
  })
  .transform(({ id: _id, createdAt: _c, updatedAt: _u, ...input }) => input)
  .meta({ title: 'ActionUriInput' });
export type ActionUriInput = z.output<typeof actionUriInputSchema>;

export const actionUriSchema = z
  .object({ ...actionUriFields, id: z.uuid(), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime() })
  .meta({ title: 'ActionUri' });
export type ActionUri = z.output<typeof actionUriSchema>;

const field = (max: number) => text().max(max).nullable().optional();
const moment = z.iso.datetime({ offset: true });

/** Open (unplanned) tasks, on the task list and the map. */
export const taskRecordSchema = z.strictObject({
  sourceApp: sourceAppSchema,
  sourceType: sourceTypeSchema.nullable().optional(),
  jobNo: text().min(1).max(50),
  taskNo: text().min(1).max(50),
  description: field(500),
  jobDescription: field(500),
  customerNo: field(50),
  customerName: field(200),
  city: field(100),
  postalCode: field(20),
  countryCode: field(10),
});

/** Planned appointments, and new ones drawn on the planning board. */
export const appointmentRecordSchema = z.strictObject({
  sourceApp: sourceAppSchema,
  sourceType: sourceTypeSchema.nullable().optional(),
  jobNo: field(50),
  taskNo: field(50),
  appointmentId: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  appointmentGuid: guidSchema.nullable().optional(),
  appointmentNo: field(100),
  start: moment.nullable().optional(),
  end: moment.nullable().optional(),
  resource: field(50),
  subject: field(1000),
  category: field(100),
  timeMarker: field(100),
  importance: z.enum(['low', 'normal', 'high']).nullable().optional(),
  /** The scheduler's A (add), E (edit), D (delete); I and U are accepted and read as A and E. */
  databaseAction: z.enum(['A', 'E', 'D', 'I', 'U']).nullable().optional(),
});

export const recordSchemaFor = (uriType: UriType) =>
  uriType === 'task' || uriType === 'map' ? taskRecordSchema : appointmentRecordSchema;

/** The fields a template of this URI type may use. */
export const fieldsFor = (uriType: UriType): string[] => Object.keys(recordSchemaFor(uriType).shape);

const renderRecords = <T extends z.ZodType>(record: T) =>
  z.array(record).min(1).max(500).describe('one record, or several for a map multi-select');

/** The records' shape follows the URI type, so a wrong field is named (records[2].jobNo) at once. */
export const renderRequestSchema = z
  .discriminatedUnion('uriType', [
    z.strictObject({ uriType: z.literal('task'), records: renderRecords(taskRecordSchema) }),
    z.strictObject({ uriType: z.literal('map'), records: renderRecords(taskRecordSchema) }),
    z.strictObject({ uriType: z.literal('appointment'), records: renderRecords(appointmentRecordSchema) }),
    z.strictObject({ uriType: z.literal('planningBoard'), records: renderRecords(appointmentRecordSchema) }),
  ])
  .meta({ title: 'RenderRequest' });
export type RenderRequest = z.output<typeof renderRequestSchema>;

export const renderedSchema = z.object({
  id: z.uuid(),
  description: z.string(),
  isDefault: z.boolean(),
  method: z.enum(['GET', 'POST']),
  uri: z.string(),
  body: z.unknown().optional(),
});

export const actionUriListQuerySchema = z.strictObject({
  sourceApp: sourceAppSchema.optional(),
  sourceType: sourceTypeSchema.optional(),
  uriType: z.enum(uriTypes).optional(),
});
