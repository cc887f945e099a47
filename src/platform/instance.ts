import { randomUUID } from 'node:crypto';

/**
 * This process, as one instance among those Azure runs: the holder of its share of each principal's budget, and
 * the service.instance.id of its telemetry. A new id per process: a restarted worker holds nothing of the old.
 */
export const instanceId = randomUUID();
