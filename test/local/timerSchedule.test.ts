import { describe, expect, it } from 'vitest';
import { parseSchedule, ScheduleError } from '../../src/local/timerSchedule';

const from = new Date('2026-11-28T10:15:07Z');

describe('NCRONTAB schedules', () => {
  it.each([
    ['*/30 * * * * *', '2026-11-28T10:15:30.000Z'],
    ['0 */5 * * * *', '2026-11-28T10:20:00.000Z'],
    ['0 0 9 * * 1-5', '2026-11-30T09:00:00.000Z'],
    ['0 30 9,17 * * *', '2026-11-28T17:30:00.000Z'],
    ['15 15 10 28 11 *', '2026-11-28T10:15:15.000Z'],
    ['0 0 0 1 1 *', '2027-01-01T00:00:00.000Z'],
  ])('%s fires next at %s', (expression, next) => {
    expect(parseSchedule(expression)(from).toISOString()).toBe(next);
  });

  it('refuses malformed expressions', () => {
    expect(() => parseSchedule('* * * * *')).toThrow(ScheduleError);
    expect(() => parseSchedule('61 * * * * *')).toThrow(/out of range/);
    expect(() => parseSchedule('a * * * * *')).toThrow(/Bad field/);
  });
});
