// The audit trail over HTTP.
import { z } from 'zod';
import { auditEntrySchema, auditResourceTypes } from '../model/audit';
import { getServices } from '../services';
import { defineRoute } from './route';

const query = z.strictObject({
  resourceType: z.enum(auditResourceTypes).optional(),
  resourceId: z.string().min(1).max(100).optional(),
  actor: z.string().min(1).max(100).optional().describe("the caller's object id, application id, or local"),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
  continuationToken: z.string().max(2048).optional(),
});

export const routes = [
  defineRoute({
    name: 'listAudit',
    method: 'GET',
    route: 'audit',
    role: 'Audit.Read',
    summary: 'The audit trail of configuration changes, tests, replays and recoveries, newest first',
    tags: ['audit'],
    query,
    responses: {
      200: {
        description: 'A page of audit entries',
        schema: z.object({ items: z.array(auditEntrySchema), continuationToken: z.string().nullable() }),
      },
    },
    async handler({ query: q }) {
      const page = await getServices().audit.list(
        {
          resourceType: q.resourceType,
          resourceId: q.resourceId,
          actor: q.actor,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        },
        { size: q.pageSize, token: q.continuationToken },
      );
      return { status: 200, body: page };
    },
  }),
];
