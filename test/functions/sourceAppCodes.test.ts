// Source-app codes across Unicode through the API, the queue and the delivery log: NFC and NFD spellings are one
// route, STRAßE and STRASSE (and ıX / IX, ﬀX / FFX) are two, invisible characters are refused naming the code
// point, and filters follow the same rule.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

const KEY = 'unicode-access-key-1234';
let app: TestApp;
let bc: BusinessCentralFake;

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', KEY);
  await bc.start();
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
  await bc.stop();
});

/** A code of this run's own: the table is shared with other test files. */
const unique = () => randomBytes(3).toString('hex').toUpperCase();

async function connector(sourceApp: string) {
  const res = await app.fetch('/api/connectors', {
    method: 'POST',
    json: {
      name: sourceApp,
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${bc.url}/BC/api/x/appointments`,
      login: 'SVC',
      password: KEY,
    },
  });
  return { status: res.status, body: await jsonOf(res) };
}

/** Posts a change for `sourceApp` and waits for its rows: which connectors (by name) it reached, or none. */
async function routedTo(sourceApp: string): Promise<string[]> {
  const change = changeMessage(sourceApp);
  expect((await app.fetch('/api/appointments', { method: 'POST', json: change })).status).toBe(202);
  const rows = await eventually(async () => {
    const page = await jsonOf(await app.fetch(`/api/deliveries?messageId=${change.messageId}`));
    return page.items.length > 0 && page.items.every((r: { status: string }) => r.status !== 'retrying')
      ? page.items
      : undefined;
  });
  return rows.map((r: { connectorName: string | null; status: string }) => r.connectorName ?? r.status).sort();
}

describe('source-app codes', () => {
  it('routes a decomposed é to the connector of the composed one, and the filter finds it either way', async () => {
    const n = unique();
    const composed = `CAFÉ${n}`;
    const { body } = await connector(composed);
    expect(body.sourceApp).toBe(composed);
    expect(await routedTo(`CAFE\u0301${n}`)).toEqual([composed]);
    const byDecomposed = await jsonOf(
      await app.fetch(`/api/deliveries?sourceApp=${encodeURIComponent(`cafe\u0301${n}`)}`),
    );
    expect(byDecomposed.items.map((r: { connectorId: string }) => r.connectorId)).toEqual([body.id]);
  });

  it.each([
    ['STRAßE', 'STRASSE'],
    ['ıX', 'IX'],
    ['ﬀX', 'FFX'],
  ])('keeps %s and %s apart: each change reaches its own connector only', async (a, b) => {
    const n = unique();
    const [first, second] = [`${a}${n}`, `${b}${n}`];
    expect((await connector(first)).status).toBe(201);
    expect((await connector(second)).status).toBe(201);
    expect(await routedTo(first)).toEqual([first]);
    expect(await routedTo(second)).toEqual([second]);
  });

  it.each([
    ['a zero-width space', '\u200B', 'U+200B (a format character, invisible)'],
    ['a right-to-left mark', '\u200F', 'U+200F (a format character, invisible)'],
  ])('refuses %s in a source app with 400 naming the code point', async (_name, mark, named) => {
    const res = await connector(`BAD${mark}${unique()}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'sourceApp', code: 'custom', message: `must not contain ${named}` }]);
  });

  it('counts the length after normalising: 30 decomposed letters are a valid 30-character code', async () => {
    const decomposed = `${'E\u0301'.repeat(24)}${unique()}`;
    const res = await connector(decomposed);
    expect(res.status).toBe(201);
    expect([...res.body.sourceApp].length).toBe(30);
  });

  it('refuses a change whose source app carries an invisible character, naming the field and the code point', async () => {
    const res = await app.fetch('/api/appointments', { method: 'POST', json: changeMessage(`INV\u200B${unique()}`) });
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).errors).toEqual([
      {
        path: 'appointment.sourceApp',
        code: 'custom',
        message: 'must not contain U+200B (a format character, invisible)',
      },
    ]);
  });
});
