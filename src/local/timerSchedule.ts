// NCRONTAB expressions as the Functions timer trigger reads them: six fields
// (second minute hour day month day-of-week), each *, a value, a range a-b, a step */n or a-b/n, or a list.

const bounds: Array<[number, number]> = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

function parseField(text: string, [min, max]: [number, number], expression: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ScheduleError(`Bad field "${part}" in schedule "${expression}"`);
    const step = m[2] ? Number(m[2]) : 1;
    const [first, last] = m[1] === '*' ? [min, max] : m[1]!.split('-').map(Number);
    const from = first!;
    const to = last ?? (m[2] && m[1] !== '*' ? max : from);
    if (from < min || to > max || from > to || step < 1)
      throw new ScheduleError(`Field "${part}" is out of range in schedule "${expression}"`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

export function parseSchedule(expression: string): (from: Date) => Date {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6)
    throw new ScheduleError(`A schedule has six fields (second minute hour day month day-of-week): "${expression}"`);
  const sets = fields.map((f, i) => parseField(f, bounds[i]!, expression));
  return (from) => {
    const t = new Date(from.getTime() - (from.getTime() % 1000) + 1000);
    // A year of seconds bounds the search; every valid expression matches well within it.
    for (let i = 0; i < 366 * 24 * 3600; i++) {
      if (
        sets[4]!.has(t.getUTCMonth() + 1) &&
        sets[3]!.has(t.getUTCDate()) &&
        sets[5]!.has(t.getUTCDay()) &&
        sets[2]!.has(t.getUTCHours()) &&
        sets[1]!.has(t.getUTCMinutes()) &&
        sets[0]!.has(t.getUTCSeconds())
      ) {
        return t;
      }
      t.setTime(t.getTime() + 1000);
    }
    throw new ScheduleError(`Schedule "${expression}" never fires`);
  };
}
