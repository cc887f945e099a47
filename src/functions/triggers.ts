// Queue and timer triggers: thin adapters from the host's invocation to a use case.
import type { InvocationContext } from '@azure/functions';
import { createLogger, invocationSink, type Logger, traceIdOf } from '../platform/logging';
import { getServices } from '../services';
import { MAX_MESSAGE_DEPTH } from './deepMessageGuard';
import { defineQueueTrigger, defineTimer } from './route';

function triggerLog(context: InvocationContext): { log: Logger; traceId: string | null } {
  const traceId = traceIdOf(context.traceContext?.traceParent) ?? null;
  const log = createLogger(invocationSink(context), {
    correlationId: traceId ?? context.invocationId,
    function: context.functionName,
  });
  return { log, traceId };
}

/** The message as the sync reads it. The library hands JSON over parsed; the text is the parse undone. */
function messageOf(value: unknown, context: InvocationContext, traceId: string | null) {
  const tooDeep = context.triggerMetadata?.nestedTooDeep === true;
  return {
    value,
    text: typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
    traceId,
    ...(tooDeep ? { unreadable: `the message is nested deeper than ${MAX_MESSAGE_DEPTH} levels: not a change` } : {}),
  };
}

export const queueTriggers = [
  defineQueueTrigger({
    name: 'appointmentChanged',
    queueSetting: 'APPOINTMENTS_QUEUE',
    async handler(value, context) {
      const { log, traceId } = triggerLog(context);
      await getServices().sync.handleChange(
        messageOf(value, context, traceId),
        log.child({ dequeueCount: context.triggerMetadata?.dequeueCount }),
      );
    },
  }),
  defineQueueTrigger({
    name: 'deliveryRetried',
    queueSetting: 'APPOINTMENT_RETRIES_QUEUE',
    async handler(value, context) {
      const { log, traceId } = triggerLog(context);
      await getServices().sync.handleWorkItem(messageOf(value, context, traceId), log);
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
