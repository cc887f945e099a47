// Credential expiry: a connector may say when its secret expires; Key Vault keeps it as the secret's expiry,
// responses say ok / expiring / expired / none, and a daily timer logs the connectors to act on.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, startTestApp, type TestApp } from '../support/testApp';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { CREDENTIAL_EXPIRY_WARNING_DAYS: '30' } });
});
afterAll(() => app?.stop());

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
const hook = (extra: Record<string, unknown> = {}) => ({
  name: `expiry ${randomBytes(3).toString('hex')}`,
  sourceApp: 'EXPIRY',
  backOffice: 'webhook',
  webServiceUri: 'https://hooks.example.com/in',
  login: 'svc',
  password: 'expiry-password-value',
  ...extra,
});
const create = async (body: unknown) => {
  const res = await app.fetch('/api/connectors', { method: 'POST', json: body });
  return { status: res.status, body: await jsonOf(res) };
};

describe('credential expiry', () => {
  it('says ok, expiring, expired or none, and keeps the expiry on the Key Vault secret', async () => {
    const ok = await create(hook({ secretExpiresAt: inDays(100) }));
    const expiring = await create(hook({ secretExpiresAt: inDays(10) }));
    const expired = await create(hook({ secretExpiresAt: inDays(-1) }));
    const none = await create(hook());
    expect([ok, expiring, expired, none].map((c) => c.body.credentialStatus)).toEqual([
      'ok',
      'expiring',
      'expired',
      'none',
    ]);
    expect(app.vault.expiryOf(`conn-${ok.body.id}`)).toBe(Math.floor(Date.parse(ok.body.secretExpiresAt) / 1000));
    expect(app.vault.expiryOf(`conn-${none.body.id}`)).toBeUndefined();
  });

  it('moves the expiry with a PUT that keeps the password, and refuses an expiry without a password', async () => {
    const { body } = await create(hook({ secretExpiresAt: inDays(10) }));
    const { password: _p, ...kept } = hook({ secretExpiresAt: inDays(400) });
    const put = await jsonOf(await app.fetch(`/api/connectors/${body.id}`, { method: 'PUT', json: kept }));
    expect(put.credentialStatus).toBe('ok');
    expect(app.vault.expiryOf(`conn-${body.id}`)).toBe(Math.floor(Date.parse(put.secretExpiresAt) / 1000));
    const bad = await create({ ...hook({ secretExpiresAt: inDays(10) }), login: null, password: null });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      {
        path: 'secretExpiresAt',
        code: 'must-be-blank',
        message: 'is the expiry of the stored secret: leave it out when the connector has no password',
      },
    ]);
  });

  it('the daily timer logs credentials.expiring for each connector expiring or expired, and no secret', async () => {
    const expiring = await create(hook({ secretExpiresAt: inDays(5), sourceApp: 'EXPIRYLOG' }));
    const fine = await create(hook({ secretExpiresAt: inDays(200), sourceApp: 'EXPIRYLOG' }));
    await app.host.invokeNonHttp('credentialExpiry', '');
    const lines = app.logs.filter((l) => l.includes('credentials.expiring'));
    expect(
      lines.some(
        (l) => l.includes(expiring.body.id) && l.includes('"status":"expiring"') && l.includes('"daysLeft":4'),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.includes(fine.body.id))).toBe(false);
    expect(app.logs.join('\n')).not.toContain('expiry-password-value');
  });
});
