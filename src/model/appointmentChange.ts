// The appointment change a producer sends (docs/contracts.md, schemaVersion 1): on the queue, base64 JSON.
import { z } from 'zod';
import { unlessMissing } from '../platform/validation';
import { guidSchema, sourceAppSchema, sourceTypeSchema, text } from './text';

const isoDateTime = z.iso.datetime({
  offset: true,
  error: unlessMissing('must be an ISO 8601 date and time with an offset'),
});

export const appointmentSchema = z.strictObject({
  appointmentId: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  appointmentGuid: guidSchema,
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

export const SUPPORTED_SCHEMA_VERSION = 1;

const traceparent = z
  .string()
  .regex(
    /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/,
    'must be a W3C traceparent (00-<trace id>-<span id>-<flags>)',
  );

export const appointmentChangeSchema = z
  .strictObject({
    schemaVersion: z.literal(SUPPORTED_SCHEMA_VERSION, {
      error: unlessMissing(`must be ${SUPPORTED_SCHEMA_VERSION}, the only schema version this service reads`),
    }),
    messageId: z.uuid({ error: unlessMissing('must be a UUID') }),
    databaseAction: z.enum(['I', 'U', 'D']),
    revision: z
      .number({
        error: (issue) =>
          issue.input === undefined
            ? 'is required: a whole number that grows with every change of the appointment'
            : 'must be a whole number that grows with every change of the appointment',
      })
      .int({ error: unlessMissing('must be a whole number') })
      .min(0, { error: unlessMissing('must be at least 0') })
      .max(Number.MAX_SAFE_INTEGER, { error: unlessMissing(`must be at most ${Number.MAX_SAFE_INTEGER}`) }),
    occurredAt: isoDateTime,
    /** The producer's trace (W3C traceparent); POST /api/appointments fills it from the request. */
    traceparent: traceparent.optional(),
    appointment: appointmentSchema,
  })
  .meta({ title: 'AppointmentChange' });

export type AppointmentChange = z.output<typeof appointmentChangeSchema>;
export type Appointment = z.output<typeof appointmentSchema>;

/** At most this many changes in one POST /api/appointments. */
export const MAX_CHANGES_PER_REQUEST = 100;
