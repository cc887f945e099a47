// Sync adapters: the two queue triggers, the poison sweep (timer), POST /api/appointments and the delivery log.
import type { InvocationContext, Timer } from '@azure/functions';
import { z } from 'zod';
import { createLogger, invocationSink, type Logger, traceIdOf } from '../platform/logging';
import type { RouteDoc } from '../platform/openapi';
import { poisonQueueName } from '../platform/resourceNames';
import { decodeBase64Strict } from '../platform/storageClients';
import { getServices } from '../services';
import { deliveryRowSchema, deliveryStatuses } from '../sync/deliveryLog';
import { appointmentChangeSchema } from '../sync/message';
import { httpEndpoint, json, parseWith, readJsonBody, readQuery } from './http';

function triggerLog(context: InvocationContext): Logger {
  return createLogger(invocationSink(context), {
    correlationId: traceIdOf(context.traceContext?.traceParent) ?? context.invocationId,
    function: context.functionName,
  });
}

/** Queue trigger on APPOINTMENTS_QUEUE. Throwing hands the message back to the host (visibility timeout, poison). */
export async function appointmentChanged(message: unknown, context: InvocationContext): Promise<void> {
  const log = triggerLog(context).child({ dequeueCount: context.triggerMetadata?.dequeueCount });
  await getServices().sync.handleChange(message, log);
}

/** Queue trigger on APPOINTMENT_RETRIES_QUEUE: one connector, one change. */
export async function deliveryRetried(message: unknown, context: InvocationContext): Promise<void> {
  await getServices().sync.handleWorkItem(message, triggerLog(context));
}

/**
 * Timer: records what the host moved to the poison queues, then removes it. A timer rather than a poison-queue
 * trigger because a message that is not base64 can never bind to a queue trigger, and would loop unseen.
 */
export async function poisonSweep(_timer: Timer, context: InvocationContext): Promise<void> {
  const log = triggerLog(context);
  const services = getServices();
  const sources = [
    [services.config.queues.appointments, 'changes'],
    [services.config.queues.appointmentRetries, 'retries'],
  ] as const;
  for (const [queue, source] of sources) {
    const poison = await services.storage.queue(poisonQueueName(queue));
    for (let batch = 0; batch < 10; batch++) {
      const { receivedMessageItems } = await poison.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (receivedMessageItems.length === 0) break;
      for (const message of receivedMessageItems) {
        const text = decodeBase64Strict(message.messageText);
        const reason =
          text === null
            ? 'the message is not base64-encoded JSON, so the host could not hand it to the function'
            : `processing failed until the host moved it to ${poisonQueueName(queue)} after maxDequeueCount attempts (a crash, not a back-office answer)`;
        await services.sync.handlePoisoned(text ?? message.messageText, source, reason, log);
        await poison.deleteMessage(message.messageId, message.popReceipt);
      }
    }
  }
}

// ---- HTTP ---------------------------------------------------------------------------------------------

const appointmentsBody = z.union([appointmentChangeSchema, z.array(appointmentChangeSchema).min(1).max(100)]);
const deliveryIdSchema = z.object({ id: z.uuid({ error: 'must be a delivery id (a UUID)' }) });
const deliveryQuery = z.strictObject({
  sourceApp: z.string().min(1).max(30).optional(),
  connectorId: z.uuid().optional(),
  status: z.enum(deliveryStatuses).optional(),
  appointmentId: z.coerce.number().int().nonnegative().optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('updated at or after'),
  to: z.iso.datetime({ offset: true }).optional().describe('updated before'),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
  continuationToken: z.string().max(2048).optional(),
});
// The API never returns the kept change text.
const deliverySchema = deliveryRowSchema.omit({ change: true });
const tags = ['sync'];

export const docs: Record<string, RouteDoc> = {
  postAppointments: {
    summary: 'Enqueue one appointment change or an array of up to 100',
    tags,
    body: appointmentsBody,
    responses: {
      202: { description: 'Queued', schema: z.object({ messageIds: z.array(z.string()) }) },
      400: { description: 'Invalid change (field errors)' },
    },
  },
  listDeliveries: {
    summary: 'The delivery log, filtered and paged',
    tags,
    query: deliveryQuery,
    responses: {
      200: {
        description: 'A page of deliveries',
        schema: z.object({
          items: z.array(deliverySchema.omit({ history: true })),
          continuationToken: z.string().nullable(),
        }),
      },
    },
  },
  getDelivery: {
    summary: 'One delivery with its attempt history',
    tags,
    responses: {
      200: { description: 'The delivery', schema: deliverySchema },
      404: { description: 'No such delivery' },
    },
  },
  replayDelivery: {
    summary: 'Send that change to that connector again (harmless if it was delivered)',
    tags,
    responses: {
      202: { description: 'Replay queued', schema: deliverySchema },
      404: { description: 'No such delivery' },
      409: { description: 'Not replayable (malformed message)' },
    },
  },
};

const publicRow = <T extends { change: string | null }>({ change: _change, ...row }: T) => row;

export const postAppointments = httpEndpoint(async ({ request, log }) => {
  const body = await readJsonBody(request, appointmentsBody, 5 * 1024 * 1024);
  const messageIds = await getServices().sync.enqueue(Array.isArray(body) ? body : [body]);
  log.info('appointments.queued', { count: messageIds.length });
  return json(202, { messageIds });
});

export const listDeliveries = httpEndpoint(async ({ request }) => {
  const q = readQuery(request, deliveryQuery);
  const page = await getServices().sync.listDeliveries(
    {
      sourceApp: q.sourceApp,
      connectorId: q.connectorId,
      status: q.status,
      appointmentId: q.appointmentId,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    },
    { size: q.pageSize, token: q.continuationToken },
  );
  return json(200, {
    items: page.items.map(({ history: _h, ...row }) => publicRow(row)),
    continuationToken: page.continuationToken,
  });
});

export const getDelivery = httpEndpoint(async ({ request }) => {
  const { id } = parseWith(deliveryIdSchema, request.params, 'path', ['path']);
  return json(200, publicRow(await getServices().sync.getDelivery(id)));
});

export const replayDelivery = httpEndpoint(async ({ request, log }) => {
  const { id } = parseWith(deliveryIdSchema, request.params, 'path', ['path']);
  return json(202, publicRow(await getServices().sync.replay(id, log)));
});
