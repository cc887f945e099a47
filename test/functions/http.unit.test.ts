// Serving one declared route, in process (the library's own HttpRequest and InvocationContext): a password in
// the body is masked in every line logged while the request is served, and only then.
import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serve } from '../../src/functions/http';
import { defineRoute } from '../../src/functions/route';
import { redact } from '../../src/platform/redact';

const PASSWORD = 'Body-Passw0rd-42';

function call(route: Parameters<typeof serve>[0], body: unknown) {
  const lines: string[] = [];
  const context = new InvocationContext({
    functionName: route.name,
    invocationId: 'test',
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
  const request = new HttpRequest({
    method: 'POST',
    url: 'http://localhost/api/things',
    headers: { 'content-type': 'application/json' },
    body: { string: JSON.stringify(body) },
  });
  return { response: serve(route)(request, context), lines };
}

describe('serve', () => {
  it('masks a body secret in every form in what is logged while the request is served, and not after', async () => {
    const route = defineRoute({
      name: 'things',
      method: 'POST',
      route: 'things',
      role: null,
      summary: 'a thing',
      tags: [],
      body: {
        schema: z.object({ name: z.string(), password: z.string() }),
        maxBytes: 1000,
        secrets: (b) => [b.password],
      },
      responses: { 200: { description: 'ok' } },
      async handler({ body, log }) {
        // Say a name the user pasted the password into, or an upstream error that quotes it.
        log.info('thing.saved', { name: body.name, echo: Buffer.from(body.password).toString('base64') });
        return { status: 200, body: { ok: true } };
      },
    });
    const { response, lines } = call(route, { name: `my ${PASSWORD} thing`, password: PASSWORD });
    expect((await response).status).toBe(200);
    expect(lines.join('\n')).toContain('"name":"my *** thing","echo":"***"');
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect(redact(PASSWORD)).toBe(PASSWORD); // released with the response
  });
});
