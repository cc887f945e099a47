// A back office that echoes the password it was sent, in any form (base64 alone, hex, upper case, escaped in
// JSON): none of it reaches the delivery log's rows, their history, or a log line.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliveryId } from '../../src/model/pushBody';
import { BusinessCentralFake } from '../fakes/businessCentralFake';
import { changeMessage } from '../support/changes';
import { eventually } from '../support/eventually';
import { leakedForms, logStrings, secretForms, stringsOf } from '../support/secretForms';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

// Quotes, a backslash and a non-ASCII letter: each form of it differs from the others.
const PASSWORD = 'Ech0"ed\\Pässwörd+/=9';
let app: TestApp;
let bc: BusinessCentralFake;

beforeAll(async () => {
  bc = new BusinessCentralFake();
  bc.basicUsers.set('SVC', PASSWORD);
  await bc.start();
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
  await bc.stop();
});

it('keeps every form of an echoed password out of the row, its history and the logs', async () => {
  const sourceApp = `ECHO${randomBytes(4).toString('hex').toUpperCase()}`;
  const created = await app.fetch('/api/connectors', {
    method: 'POST',
    json: {
      name: 'echo',
      sourceApp,
      backOffice: 'bc-onprem',
      webServiceUri: `${bc.url}/BC/api/x/appointments`,
      login: 'SVC',
      password: PASSWORD,
    },
  });
  const { id } = await jsonOf(created);
  const forms = Object.values(secretForms(PASSWORD));
  bc.faults.push({
    status: 400,
    contentType: 'application/json',
    body: JSON.stringify({
      error: { code: 'BadRequest', message: `Refused the credentials ${forms.join(' | ')} for this request.` },
    }),
  });
  const change = changeMessage(sourceApp);
  await app.fetch('/api/appointments', { method: 'POST', json: change });
  const rowId = deliveryId(id, change.appointment.appointmentGuid, 1);
  const row = await eventually(async () => {
    const res = await app.fetch(`/api/deliveries/${rowId}`);
    const body = res.status === 200 ? await jsonOf(res) : undefined;
    return body?.status === 'failed' ? body : undefined;
  });
  expect(row.message).toContain('Refused the credentials *** |');
  expect(row.history[0].message).toContain('Refused the credentials ***');
  const listed = await jsonOf(await app.fetch(`/api/deliveries?sourceApp=${sourceApp}`));
  const seen = [...stringsOf(row), ...stringsOf(listed), ...app.logs.flatMap(logStrings)].join('\n');
  expect(leakedForms(seen, [PASSWORD])).toEqual([]);
});
