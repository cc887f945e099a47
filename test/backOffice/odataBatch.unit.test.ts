// OData JSON $batch, pinned by literal fixtures (test/fixtures/batch/): the request body byte for byte, and
// what each kind of answer means for the changes it carried.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchAddress, batchRequest, readBatchAnswer } from '../../src/backOffice/odataBatch';
import { appointmentChangeSchema } from '../../src/model/appointmentChange';
import { buildPushBody } from '../../src/model/pushBody';
import { GOLDEN_CONNECTOR, goldenChange } from '../support/goldenChange';
import { repoRoot } from '../support/repoRoot';

const fixture = (name: string) => readFileSync(join(repoRoot, 'test', 'fixtures', 'batch', name), 'utf8');
const ok = (body: string, status = 200) => ({ status, headers: {}, body, durationMs: 40 });

const URI =
  'https://api.businesscentral.dynamics.com/v2.0/c0ffee00-0000-4000-8000-000000000001/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(5e2c0000-1111-4222-8333-444455556666)/appointments?tenant=x';

describe('batchAddress', () => {
  it('posts to the API root before /companies( and keeps the rest as each operation url', () => {
    expect(batchAddress(URI)).toEqual({
      url: 'https://api.businesscentral.dynamics.com/v2.0/c0ffee00-0000-4000-8000-000000000001/Production/api/dimeSoftware/dimeScheduler/v1.0/$batch',
      innerUrl: 'companies(5e2c0000-1111-4222-8333-444455556666)/appointments?tenant=x',
    });
  });

  it('has none for a web service URI without a company segment', () => {
    expect(batchAddress('https://bc.example.com/BC/ODataV4/Appointments')).toBeUndefined();
  });
});

describe('batchRequest', () => {
  it('is the golden body: an operation per change, its own Idempotency-Key, no Isolation header', () => {
    const changes = [
      goldenChange(),
      appointmentChangeSchema.parse({ ...goldenChange(), revision: 18, databaseAction: 'D' }),
    ];
    const request = batchRequest(
      batchAddress(URI)!,
      changes.map((c) => buildPushBody(GOLDEN_CONNECTOR, c)),
    );
    expect(request.method).toBe('POST');
    expect(request.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json' });
    expect(request.body).toBe(JSON.stringify(JSON.parse(fixture('request.json'))));
  });
});

describe('readBatchAnswer', () => {
  it('gives each operation its own outcome from a 200 batch response, whatever the order of the answers', () => {
    expect(readBatchAnswer(ok(fixture('mixed.json')), 5)).toEqual({
      kind: 'outcomes',
      outcomes: [
        { kind: 'delivered', code: 'delivered', message: 'accepted (201)', status: 201, durationMs: 40 },
        {
          kind: 'duplicate',
          code: 'duplicate',
          message: 'The record in table Dime DS Appointment already exists.',
          status: 400,
          durationMs: 40,
          upstreamCode: 'Internal_EntityWithSameKeyExists',
        },
        {
          kind: 'permanent',
          code: 'http.rejected',
          message: 'Job No. SO-9 does not exist.',
          status: 400,
          durationMs: 40,
          upstreamCode: 'Application_FieldValidationException',
        },
        {
          kind: 'transient',
          code: 'http.server-error',
          message: 'Busy.',
          status: 503,
          durationMs: 40,
          upstreamCode: 'ServiceUnavailable',
          retryAfterMs: 7000,
        },
        {
          kind: 'transient',
          code: 'http.throttled',
          message: 'Too many requests.',
          status: 429,
          durationMs: 40,
          upstreamCode: 'Application_TooManyRequests',
        },
      ],
    });
  });

  it('makes an operation the answer leaves out transient: it may not have run', () => {
    expect(readBatchAnswer(ok(fixture('missing.json')), 3)).toEqual({
      kind: 'outcomes',
      outcomes: [
        { kind: 'delivered', code: 'delivered', message: 'accepted (201)', status: 201, durationMs: 40 },
        {
          kind: 'transient',
          code: 'http.server-error',
          message: 'the batch answer did not include this operation',
          status: 200,
          durationMs: 40,
        },
        { kind: 'delivered', code: 'delivered', message: 'accepted (204)', status: 204, durationMs: 40 },
      ],
    });
  });

  const unconfirmed: Array<[string, ReturnType<typeof ok>, number, string]> = [
    [
      'an answer naming an operation that was not sent',
      ok(fixture('extra.json')),
      2,
      'the $batch answer names operation 9, which was not sent',
    ],
    [
      'an answer naming an operation twice',
      ok(fixture('duplicate.json')),
      2,
      'the $batch answer names operation 1 twice',
    ],
    ['a 204 (a proxy)', ok('', 204), 2, 'the $batch was answered 204, without a result per change'],
    ['a 202 (OData respond-async)', ok('', 202), 2, 'the $batch was answered 202, without a result per change'],
    ['a 201', ok('{}', 201), 2, 'the $batch was answered 201, without a result per change'],
    ['a 200 that is not a batch response', ok('{"value":[]}'), 2, 'the $batch answer is not a batch response'],
    ['a 200 that is not JSON', ok('<html>OK</html>'), 2, 'the $batch answer is not JSON'],
  ];
  it.each(unconfirmed)('confirms nothing for %s', (_name, res, count, reason) => {
    expect(readBatchAnswer(res, count)).toEqual({ kind: 'unconfirmed', reason });
  });
});
