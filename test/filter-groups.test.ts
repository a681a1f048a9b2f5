/**
 * The feeds' grouping of live subscribers by filter (src/live/filter-groups.ts):
 * counts, empty groups dropped, one view per group, and a fan-out sliced into
 * turns of the event loop that copes with subscribers leaving mid-way.
 */
import { describe, expect, it } from 'vitest';
import { ActivitySignal, DELIVERY_SLICE, FilterGroups, type FilterGroup } from '../src/live/filter-groups.js';

interface Member {
  filterKey: string;
  name: string;
}
interface Group extends FilterGroup<Member> {
  key: string;
}

const groupsOf = () => new FilterGroups<Member, Group>((first) => ({ key: first.filterKey, subscribers: new Set() }));
const members = (key: string, count: number): Member[] =>
  Array.from({ length: count }, (_, i) => ({ filterKey: key, name: `${key}${i}` }));

describe('FilterGroups', () => {
  it('counts live subscribers and distinct filters, and drops a group once empty', () => {
    const groups = groupsOf();
    const [a0, a1] = members('a', 2);
    const [b0] = members('b', 1);
    for (const member of [a0!, a1!, b0!]) groups.add(member);
    expect([groups.live, groups.size]).toEqual([3, 2]);
    expect(groups.delete(b0!)).toBe(true);
    expect(groups.delete(b0!)).toBe(false);
    expect([groups.live, groups.size]).toEqual([2, 1]);
    expect(groups.subscribers().map((m) => m.name)).toEqual(['a0', 'a1']);
  });

  it('builds one view per group and offers it to each member, a turn of the event loop between slices', async () => {
    const groups = groupsOf();
    for (const member of [...members('a', DELIVERY_SLICE + 10), ...members('b', 5)]) groups.add(member);
    const views: string[] = [];
    const offered: string[] = [];
    let turns = 0;
    let counting = true;
    const countTurns = () => {
      if (!counting) return;
      turns += 1;
      setImmediate(countTurns);
    };
    setImmediate(countTurns);
    await groups.fanOut(
      (group) => {
        views.push(group.key);
        return group.key.toUpperCase();
      },
      (member, view) => offered.push(`${view}:${member.name}`),
    );
    counting = false;
    expect(views).toEqual(['a', 'b']);
    expect(offered).toHaveLength(DELIVERY_SLICE + 15);
    expect(offered[0]).toBe('A:a0');
    expect(offered.at(-1)).toBe('B:b4');
    // One slice boundary fell inside the fan-out: the loop turned at least once before it ended.
    expect(turns).toBeGreaterThanOrEqual(1);
  });

  it('goes on after a subscriber leaves during the fan-out, and does not offer to one that joined', async () => {
    const groups = groupsOf();
    const all = members('a', DELIVERY_SLICE + 2);
    for (const member of all) groups.add(member);
    const late = { filterKey: 'a', name: 'late' };
    const offered: string[] = [];
    await groups.fanOut(
      () => null,
      (member) => {
        offered.push(member.name);
        if (member === all[0]) {
          groups.delete(all[1]!);
          groups.add(late);
        }
      },
    );
    // Members were copied before the fan-out: a leaver is still offered this read (its stream ignores it once
    // ended), a newcomer is not (its own position covers it).
    expect(offered).toHaveLength(all.length);
    expect(offered).not.toContain('late');
    expect(groups.live).toBe(all.length);
  });
});

describe('ActivitySignal', () => {
  it('reports only changes', () => {
    const seen: boolean[] = [];
    const signal = new ActivitySignal((active) => seen.push(active));
    for (const active of [true, true, false, false, true]) signal.update(active);
    expect(seen).toEqual([true, false, true]);
  });
});
