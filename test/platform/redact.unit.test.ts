import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logging';
import { redact, redactAndTruncate, registerSecret } from '../../src/platform/redact';

describe('redact', () => {
  it('masks credentials by shape', () => {
    const samples = [
      'client_id=abc&client_secret=s3cr3t-value',
      '{"password":"hunter2-long","login":"u"}',
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefgh',
      'AccountKey=Eby8vdM02xNOcqFl==;',
      'secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'https://x.blob.core.windows.net/c?sv=1&sig=abcdef1234',
    ];
    const out = samples.map(redact).join('\n');
    for (const leaked of [
      's3cr3t-value',
      'hunter2-long',
      'eyJhbGciOiJIUzI1NiJ9',
      'Eby8vdM02xNOcqFl',
      'MfKQ9r8GKYqrTwjUPD8',
      'abcdef1234',
    ]) {
      expect(out).not.toContain(leaked);
    }
    expect(out).toContain('client_id=abc');
    expect(out).toContain('"login":"u"');
  });

  it('masks registered secret values wherever they appear, plain or URL-encoded', () => {
    registerSecret('p@ss w0rd!');
    expect(redact('failed for p@ss w0rd! and p%40ss%20w0rd!')).toBe('failed for *** and ***');
  });

  it('truncates after redacting', () => {
    const text = `client_secret=${'x'.repeat(50)} ${'y'.repeat(100)}`;
    const out = redactAndTruncate(text, 40);
    expect(out.length).toBe(40);
    expect(out).not.toContain('xxxxx');
  });

  it('is applied to every log line', () => {
    const lines: string[] = [];
    const log = createLogger((_l, line) => lines.push(line), { correlationId: 'c1' });
    log.error('token.failed', { body: 'client_secret=abcdefgh', err: new Error('Bearer abcdefghijklmnop') });
    expect(lines[0]).toContain('"correlationId":"c1"');
    expect(lines[0]).not.toContain('abcdefgh');
  });
});

describe('a registered secret in the forms a back office may echo', () => {
  const secret = 's3cr"et\\Wörd+/=1';
  const release = registerSecret(secret);
  const bytes = Buffer.from(secret, 'utf8');
  const cases: Array<[string, string]> = [
    ['as it is', secret],
    ['in upper case', secret.toUpperCase()],
    ['URL-encoded', encodeURIComponent(secret)],
    ['base64', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', bytes.toString('base64url')],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
    ['escaped in a JSON string', JSON.stringify(secret).slice(1, -1)],
  ];
  it.each(cases)('%s', (_name, form) => {
    expect(redact(`{"error":{"message":"bad password ${form} for SVC"}}`)).toBe(
      '{"error":{"message":"bad password *** for SVC"}}',
    );
  });

  it('is masked no more once released', () => {
    release();
    expect(redact(`x ${bytes.toString('hex')} y`)).toBe(`x ${bytes.toString('hex')} y`);
  });
});
