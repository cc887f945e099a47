// NCRONTAB expressions as the Functions timer trigger reads them: six fields (second minute hour day month
// day-of-week), with ranges, steps, lists and day or month names. croner evaluates them; day of month and day
// of week must both match (NCRONTAB's rule, not classic cron's "either").
import { Cron } from 'croner';

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

/** The function that gives the next occurrence after a time, in UTC (WEBSITE_TIME_ZONE is not emulated). */
export function parseSchedule(expression: string): (from: Date) => Date {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6)
    throw new ScheduleError(`A schedule has six fields (second minute hour day month day-of-week): "${expression}"`);
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), { paused: true, timezone: 'UTC', domAndDow: true });
  } catch (error) {
    throw new ScheduleError(`Schedule "${expression}" is not valid: ${(error as Error).message}`);
  }
  return (from) => {
    const next = cron.nextRun(from);
    if (!next) throw new ScheduleError(`Schedule "${expression}" never fires`);
    return next;
  };
}
