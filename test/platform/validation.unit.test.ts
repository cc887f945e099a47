// What a caller is told at a boundary: a missing value "is required", whatever the schema says of a wrong one.
import { describe, expect, it } from 'vitest';
import { appointmentChangeSchema } from '../../src/model/appointmentChange';
import { recoverRequestSchema } from '../../src/model/recovery';
import { ValidationError } from '../../src/platform/errors';
import { parseWith } from '../../src/platform/validation';
import { changeMessage } from '../support/changes';

const errorsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors.map((e) => [e.path, e.message]);
    throw error;
  }
  return [];
};

describe('boundary messages', () => {
  it.each([
    ['a recover without since', recoverRequestSchema, {}, [['since', 'is required']]],
    [
      'a recover with a since that is not a date',
      recoverRequestSchema,
      { since: 'yesterday' },
      [['since', 'must be an ISO 8601 date and time with an offset']],
    ],
  ])('%s', (_what, schema, body, expected) => {
    expect(errorsOf(() => parseWith(schema, body, 'body'))).toEqual(expected);
  });

  it('a change without jobNo, messageId and occurredAt: each is required; a wrong one says what it must be', () => {
    const { messageId: _m, occurredAt: _o, ...message } = changeMessage('BCCRONUSUS');
    const { jobNo: _j, ...appointment } = message.appointment;
    expect(errorsOf(() => parseWith(appointmentChangeSchema, { ...message, appointment }, 'change'))).toEqual([
      ['messageId', 'is required'],
      ['occurredAt', 'is required'],
      ['appointment.jobNo', 'is required'],
    ]);
    expect(
      errorsOf(() =>
        parseWith(appointmentChangeSchema, { ...changeMessage('X'), messageId: 'x', revision: -1 }, 'change'),
      ),
    ).toEqual([
      ['messageId', 'must be a UUID'],
      ['revision', 'must be at least 0'],
    ]);
  });
});
