// The queue message of an appointment change (DESIGN.md, schemaVersion 1).
import { z } from 'zod';
import { sourceAppSchema, sourceTypeSchema, text } from '../connectors/model';

const isoDateTime = z.iso.datetime({ offset: true });

export const appointmentSchema = z.strictObject({
  appointmentId: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  appointmentGuid: z.uuid(),
  appointmentNo: text().max(100).nullable().default(null),
  sourceApp: sourceAppSchema,
  sourceType: sourceTypeSchema.nullable().default(null),
  jobNo: text().min(1).max(50),
  taskNo: text().min(1).max(50),
  resourceNos: z.array(text().min(1).max(50)).max(100).default([]),
  subject: text().max(4000).nullable().default(null),
  body: text().max(16000).nullable().default(null),
  start: isoDateTime,
  end: isoDateTime,
  category: text().max(100).nullable().default(null),
  timeMarker: text().max(100).nullable().default(null),
  importance: z.enum(['low', 'normal', 'high']).default('normal'),
  locked: z.boolean().default(false),
  backOfficeId: text().max(100).nullable().default(null),
  backOfficeParentId: text().max(100).nullable().default(null),
  planningUom: text().max(20).nullable().default(null),
  planningUomConversion: z.number().finite().nullable().default(null),
  planningQuantity: z.number().finite().nullable().default(null),
  useFixedPlanningQuantity: z.boolean().default(false),
  roundToUom: z.boolean().default(false),
  sentFromBackOffice: z.boolean().default(false),
  fields: z.record(z.string().max(100), z.union([z.string().max(4000), z.number(), z.boolean(), z.null()])).default({}),
});

export const appointmentChangeSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    messageId: z.uuid(),
    databaseAction: z.enum(['I', 'U', 'D']),
    revision: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    occurredAt: isoDateTime,
    appointment: appointmentSchema,
  })
  .meta({ title: 'AppointmentChange' });

export type AppointmentChange = z.output<typeof appointmentChangeSchema>;
export type Appointment = z.output<typeof appointmentSchema>;
