// Lanes gather what waits for one key: a group goes when it is full or when its first member has waited its
// linger; every member gets the group's answer; a failed send fails every member; keys never mix.
import { describe, expect, it } from 'vitest';
import { Lanes } from '../../src/sync/lanes';

function recordingLanes(maxItems: number, answer: (group: number[]) => Promise<string> = async (g) => g.join(',')) {
  const groups: Array<[string, number[]]> = [];
  const lanes = new Lanes<number, string>({ maxItems }, async (key, group) => {
    groups.push([key, group]);
    return answer(group);
  });
  return { lanes, groups };
}

describe('Lanes', () => {
  it('sends a full group at once, the rest when the first of them has waited its linger', async () => {
    const { lanes, groups } = recordingLanes(3);
    const answers = await Promise.all([1, 2, 3, 4].map((n) => lanes.join('a', n, 20)));
    expect(groups).toEqual([
      ['a', [1, 2, 3]],
      ['a', [4]],
    ]);
    expect(answers).toEqual(['1,2,3', '1,2,3', '1,2,3', '4']);
  });

  it('keeps keys apart', async () => {
    const { lanes, groups } = recordingLanes(10);
    await Promise.all([lanes.join('a', 1, 0), lanes.join('b', 2, 0), lanes.join('a', 3, 0)]);
    expect(groups).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
  });

  it('a linger of 0 still gathers what joins in the same turn of the event loop', async () => {
    const { lanes, groups } = recordingLanes(10);
    await Promise.all([lanes.join('a', 1, 0), lanes.join('a', 2, 0)]);
    await lanes.join('a', 3, 0);
    expect(groups).toEqual([
      ['a', [1, 2]],
      ['a', [3]],
    ]);
  });

  it('fails every member of a group whose send fails, and the next group starts afresh', async () => {
    let fail = true;
    const { lanes } = recordingLanes(10, async (g) => {
      if (fail) throw new Error('send failed');
      return g.join(',');
    });
    const first = await Promise.allSettled([lanes.join('a', 1, 0), lanes.join('a', 2, 0)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await lanes.join('a', 3, 0)).toBe('3');
  });
});
