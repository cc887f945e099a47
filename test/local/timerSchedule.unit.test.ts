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
    ['0 0 9 * * MON-FRI', '2026-11-30T09:00:00.000Z'],
    ['0 0 12 1 JAN *', '2027-01-01T12:00:00.000Z'],
    ['0 0 9 * * SUN', '2026-11-29T09:00:00.000Z'],
    // Day of month and day of week must both match, as NCRONTAB reads them: the next 13th that is a Friday.
    ['0 0 0 13 * FRI', '2027-08-13T00:00:00.000Z'],
  ])('%s fires next at %s', (expression, next) => {
    expect(parseSchedule(expression)(from).toISOString()).toBe(next);
  });

  it('refuses malformed expressions, naming them', () => {
    expect(() => parseSchedule('* * * * *')).toThrow(/six fields/);
    for (const bad of ['61 * * * * *', 'a * * * * *', '0 0 0 32 * *', '0 0 0 * 13 *'])
      expect(() => parseSchedule(bad), bad).toThrow(new RegExp(`${bad.replace(/\*/g, '\\*')}.*not valid`));
    expect(() => parseSchedule('* * * * *')).toThrow(ScheduleError);
  });

  it('finds an occurrence more than a year away: 29 February (the old evaluator gave up: "never fires")', () => {
    expect(parseSchedule('0 0 0 29 2 *')(from).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});
