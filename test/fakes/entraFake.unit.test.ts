// The by-hand token endpoint of `npm run fakes`: a token with the roles asked for, and a 400 that says what it
// takes when a parameter is misspelt (a token without roles would only show up as a puzzling 403 later).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, EntraFake } from './entraFake';

const entra = new EntraFake();
beforeAll(() => entra.start());
afterAll(() => entra.stop());

const ask = (body: string) =>
  fetch(`${entra.url}/_fake/api-token/72f988bf-86f1-41af-91ab-2d7cd011db47`, { method: 'POST', body });

describe('the by-hand token endpoint', () => {
  it('gives a token with the roles asked for', async () => {
    const res = await ask('{"roles":["Deliveries.Read"]}');
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(decodeJwt(access_token)?.roles).toEqual(['Deliveries.Read']);
  });

  it.each([
    ['{"role":["Deliveries.Read"]}', 'takes {"roles": ["Connectors.Manage", ...], "name": "..."}; unknown: role'],
    ['{"roles":"Deliveries.Read"}', 'takes {"roles": ["Connectors.Manage", ...], "name": "..."}'],
    ['{roles}', 'the body is not JSON'],
  ])('refuses %s with 400', async (body, description) => {
    const res = await ask(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: description });
  });
});
