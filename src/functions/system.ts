// GET /api/health: liveness (anonymous), and with ?deep=true the reachability of every dependency.
import { z } from 'zod';
import { appVersion } from '../platform/appInfo';
import { ConfigError } from '../platform/config';
import { getServices, instanceId } from '../services';
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
      .describe('the instance that answered (with ?deep=true): the id it holds budget slots under'),
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
      return {
        status: ok ? 200 : 503,
        body: { status: ok ? 'ok' : 'degraded', version, time, instance: instanceId, checks },
      };
    },
  }),
];
