import { randomUUID } from 'node:crypto';

/**
 * This process, as one instance among those Azure runs: the holder of its share of each principal's budget, and
 * the service.instance.id of its telemetry. A new id per process: a restarted worker holds nothing of the old.
 */
export const instanceId = randomUUID();

/**
 * The instance as a person reads it on delivery rows, log lines and deep health: `host:7073` locally (npm start
 * names each host process by its port), the start of WEBSITE_INSTANCE_ID in Azure, else the start of the id.
 */
export const instanceName =
  process.env.LOCAL_INSTANCE_NAME?.trim() ||
  process.env.WEBSITE_INSTANCE_ID?.trim().slice(0, 12) ||
  instanceId.slice(0, 8);
