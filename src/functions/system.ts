// GET /api/health: liveness (anonymous), and with ?deep=true the reachability of every dependency.
import { z } from 'zod';
import { appVersion } from '../platform/appInfo';
import { ConfigError } from '../platform/config';
import { instanceName } from '../platform/instance';
import { getServices } from '../services';
import { defineRoute } from './route';

const version = appVersion();

const healthQuery = z.strictObject({
  deep: z
    .enum(['true', 'false'])
    .optional()
    .describe('also check tables, queues and Key Vault (needs Deliveries.Read)'),
});
const healthBody = z
  .object({
    status: z.enum(['ok', 'degraded', 'misconfigured']),
    version: z.string(),
    time: z.iso.datetime(),
    instance: z
      .string()
      .optional()
      .describe('the instance that answered (with ?deep=true): the name its delivery rows and log lines carry'),
    instances: z
      .array(
        z.object({
          id: z.string().describe('the id it holds budget slots under'),
          name: z.string(),
          version: z.string(),
          startedAt: z.iso.datetime(),
          lastSeenAt: z.iso.datetime(),
        }),
      )
      .optional()
      .describe('with ?deep=true: every instance that ran in the last 90 s (each writes a heartbeat every 30 s)'),
    checks: z
      .array(z.object({ name: z.string(), ok: z.boolean(), durationMs: z.number(), error: z.string().optional() }))
      .optional(),
    problems: z.array(z.string()).optional(),
  })
  .meta({ title: 'Health' });

const deep = (url: string) => new URL(url).searchParams.get('deep') === 'true';

export const routes = [
  defineRoute({
    name: 'health',
    method: 'GET',
    route: 'health',
    role: (request) => (deep(request.url) ? 'Deliveries.Read' : null),
    summary: 'Liveness; with ?deep=true the reachability of tables, queues and Key Vault',
    tags: ['system'],
    query: healthQuery,
    responses: {
      200: {
        description: 'Healthy',
        schema: healthBody,
        example: { status: 'ok', version, time: '2026-11-28T09:00:00.000Z' },
      },
      503: { description: 'A dependency is unreachable or a setting is invalid', schema: healthBody },
    },
    async handler({ query, log }) {
      const time = new Date().toISOString();
      let services: ReturnType<typeof getServices>;
      try {
        services = getServices();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        log.error('config.invalid', { problems: error.problems });
        return { status: 503, body: { status: 'misconfigured', version, time, problems: error.problems } };
      }
      if (query.deep !== 'true') return { status: 200, body: { status: 'ok', version, time } };
      const checks = await services.checkDependencies();
      const ok = checks.every((c) => c.ok);
      if (!ok) log.warn('health.degraded', { checks });
      // Who shares the work; unknown (left out) when the tables cannot say.
      const instances = checks.find((c) => c.name === 'tables')?.ok
        ? await services.liveInstances().catch(() => undefined)
        : undefined;
      return {
        status: ok ? 200 : 503,
        body: {
          status: ok ? 'ok' : 'degraded',
          version,
          time,
          instance: instanceName,
          ...(instances ? { instances } : {}),
          checks,
        },
      };
    },
  }),
];
