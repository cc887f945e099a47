// Queue and timer triggers: thin adapters from the host's invocation to a use case. The work of a queued change
// is a consumer span in its producer's trace (the traceparent travels in the message), linked to the host's
// invocation, so a producer's trace id finds everything that happened to its change.
import type { InvocationContext } from '@azure/functions';
import { instanceName } from '../platform/instance';
import { createLogger, invocationSink, type Logger, traceIdOf } from '../platform/logging';
import { context as activeContext, contextOf, inSpan, type Link, SpanKind, trace } from '../platform/telemetry';
import { getServices } from '../services';
import { MAX_MESSAGE_DEPTH } from './deepMessageGuard';
import { defineQueueTrigger, defineTimer } from './route';

function triggerLog(context: InvocationContext): { log: Logger; traceId: string | null } {
  const traceId = traceIdOf(context.traceContext?.traceParent) ?? null;
  const log = createLogger(invocationSink(context), {
    correlationId: traceId ?? context.invocationId,
    function: context.functionName,
    instance: instanceName,
  });
  return { log, traceId };
}

/** The message as the sync reads it. The library hands JSON over parsed; the text is the parse undone. */
function messageOf(value: unknown, context: InvocationContext, traceId: string | null) {
  const tooDeep = context.triggerMetadata?.nestedTooDeep === true;
  const inserted = Date.parse(String(context.triggerMetadata?.insertionTime ?? ''));
  return {
    value,
    text: typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
    traceId,
    ...(Number.isNaN(inserted) ? {} : { enqueuedAt: inserted }),
    ...(tooDeep ? { unreadable: `the message is nested deeper than ${MAX_MESSAGE_DEPTH} levels: not a change` } : {}),
  };
}

/** A queued message's work as a consumer span: in the producer's trace when it carries one, else the host's. */
function inMessageSpan(name: string, traceparent: unknown, context: InvocationContext, work: () => Promise<void>) {
  const producer = contextOf(traceparent);
  const invocation = trace.getSpanContext(activeContext.active());
  const links: Link[] = producer && invocation ? [{ context: invocation }] : [];
  const metadata = context.triggerMetadata ?? {};
  return inSpan(
    name,
    {
      kind: SpanKind.CONSUMER,
      parent: producer,
      links,
      attributes: {
        'messaging.system': 'azure_queue',
        'messaging.operation.type': 'process',
        'messaging.message.id': String(metadata.id ?? ''),
        'messaging.message.delivery_count': Number(metadata.dequeueCount ?? 0),
      },
    },
    work,
  );
}

const field = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
    value,
  );

export const queueTriggers = [
  defineQueueTrigger({
    name: 'appointmentChanged',
    queueSetting: 'APPOINTMENTS_QUEUE',
    async handler(value, context) {
      const { log, traceId } = triggerLog(context);
      await inMessageSpan('appointment.change', field(value, 'traceparent'), context, () =>
        getServices().sync.handleChange(
          messageOf(value, context, traceId),
          log.child({ dequeueCount: context.triggerMetadata?.dequeueCount }),
        ),
      );
    },
  }),
  defineQueueTrigger({
    name: 'deliveryRetried',
    queueSetting: 'APPOINTMENT_RETRIES_QUEUE',
    async handler(value, context) {
      const { log, traceId } = triggerLog(context);
      await inMessageSpan('appointment.retry', field(value, 'change', 'traceparent'), context, () =>
        getServices().sync.handleWorkItem(messageOf(value, context, traceId), log),
      );
    },
  }),
  defineQueueTrigger({
    name: 'recoveryPage',
    queueSetting: 'RECOVERIES_QUEUE',
    async handler(value, context) {
      const { log, traceId } = triggerLog(context);
      await getServices().sync.handleRecoveryPage(messageOf(value, context, traceId), log);
    },
  }),
];

export const timers = [
  defineTimer({
    name: 'poisonSweep',
    schedule: '%POISON_SWEEP_SCHEDULE%',
    async handler(_timer, context) {
      const { log } = triggerLog(context);
      const handled = await getServices().sync.sweepPoison(log);
      if (handled) log.info('poison.swept', { messages: handled });
    },
  }),
  defineTimer({
    // Moves the delivery pointers of the previous layout into their rows' partitions (stores/deliveryStore.ts);
    // once none are left an instance does nothing here.
    name: 'deliveryLogUpgrade',
    schedule: '0 */1 * * * *',
    async handler(_timer, context) {
      const { log } = triggerLog(context);
      await getServices().upgradeDeliveryLog(log);
    },
  }),
  defineTimer({
    name: 'retention',
    schedule: '0 15 3 * * *',
    async handler(_timer, context) {
      const { log } = triggerLog(context);
      log.info('retention.done', await getServices().purgeExpired());
    },
  }),
  defineTimer({
    name: 'credentialExpiry',
    schedule: '0 0 6 * * *',
    async handler(_timer, context) {
      const { log } = triggerLog(context);
      await getServices().warnExpiringCredentials(log);
    },
  }),
];
