// POST /api/appointments: producers hand changes over HTTP instead of writing to the queue themselves.
import { z } from 'zod';
import { type AppointmentChange, appointmentChangeSchema, MAX_CHANGES_PER_REQUEST } from '../model/appointmentChange';
import { DependencyError } from '../platform/errors';
import { currentTraceparent } from '../platform/telemetry';
import { getServices } from '../services';
import { defineRoute } from './route';

const many = z
  .array(appointmentChangeSchema)
  .min(1, 'must hold at least one change')
  .max(MAX_CHANGES_PER_REQUEST, `at most ${MAX_CHANGES_PER_REQUEST} changes per request`);

/** One change or an array; errors name the item and the field ([3].revision), not "no union member matched". */
const changesSchema = z.unknown().transform((value, ctx): { changes: AppointmentChange[]; single: boolean } => {
  const result = (Array.isArray(value) ? many : appointmentChangeSchema).safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  return Array.isArray(result.data)
    ? { changes: result.data, single: false }
    : { changes: [result.data], single: true };
});

const MAYBE_QUEUED =
  'Some of the changes may have been queued all the same: sending the same request again is safe, since a change is sent once per connector, appointment and revision.';

export const routes = [
  defineRoute({
    name: 'postAppointments',
    method: 'POST',
    route: 'appointments',
    role: 'Scheduler',
    summary: `Enqueue one appointment change or an array of up to ${MAX_CHANGES_PER_REQUEST}`,
    description:
      "Each change is validated, given the request's traceparent (unless it carries one) and put on the appointments queue, base64-encoded. A change that would not fit a queue message (64 KiB, with room for its retries) is refused before anything of the request is queued.",
    tags: ['sync'],
    body: {
      schema: changesSchema,
      documented: z.union([appointmentChangeSchema, many]),
      maxBytes: 5 * 1024 * 1024,
    },
    responses: {
      202: { description: 'Queued', schema: z.object({ messageIds: z.array(z.string()) }) },
      413: { description: 'A change is too large for the queue (change-too-large); errors name it ([1])' },
      503: { description: 'Queue storage is unavailable; retry (message ids make it safe)' },
    },
    async handler({ body, request, log }) {
      const messageIds = await getServices()
        .sync.enqueue(
          body.changes,
          // The request's own span when telemetry is on (a child of the producer's), else the producer's header.
          currentTraceparent() ?? request.headers.get('traceparent') ?? undefined,
          {
            single: body.single,
          },
        )
        .catch((error: unknown) => {
          // A send that ran out of time may still have reached the queue: say what sending again does.
          if (error instanceof DependencyError)
            throw new DependencyError(`${error.message} ${MAYBE_QUEUED}`, error.code, { cause: error });
          throw error;
        });
      log.info('appointments.queued', { count: messageIds.length, messageIds: messageIds.slice(0, 10) });
      return { status: 202, body: { messageIds } };
    },
  }),
];
