/**
 * A forged stream cursor is the sender's problem only. Its position goes into the feed's shared statement,
 * so a value Postgres refuses there failed every subscriber's tick, for as long as its sender stayed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeChangeCursor } from '../src/live/capture/cursor.js';
import { isSnapshotText, isStampText, snapshotSees } from '../src/live/capture/position.js';
import { sealCursor } from '../src/live/cursor-envelope.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { cursorForger, insertTrips, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

describe('isStampText: a snapshot, optionally with the change record sequence number it saw', () => {
  it('accepts bare snapshots (cursors from before stamps) and stamps whose number is an int8', () => {
    for (const text of ['5:9:5,6,8', '5:9:5,6,8@0', '846:850:@123', '5:5:@9223372036854775807']) {
      expect(isStampText(text), text).toBe(true);
    }
    for (const text of [
      '5:9:@',
      '5:9:@-1',
      '5:9:@1e3',
      '5:9:@ 1',
      '5:5:@9223372036854775808',
      '5:3:@1',
      '@5',
      '5:9:@1@2',
    ]) {
      expect(isStampText(text), text).toBe(false);
    }
  });
});

describe('isSnapshotText reads what Postgres reads as a pg_snapshot', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('snapshot_text');
  });
  afterAll(() => db.drop());

  it('agrees with pg_input_is_valid on edge cases and on random snapshots', async () => {
    const candidates = [
      '5:5:',
      '5:9:5,6,8',
      '3:5:4',
      '5:3:',
      '0:5:',
      '5:0:',
      '4294967296:4294967300:',
      '4294967297:4294967300:',
      '846:850:849,848',
      '846:850:846,846,849',
      '846:850:850',
      '846:850:845',
      '840:840:',
      '18446744073709551615:18446744073709551615:',
      '18446744073709551616:18446744073709551616:',
      '1:18446744073709551615:18446744073709551614',
    ];
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    for (let i = 0; i < 400; i += 1) {
      const xmin = random(20);
      const xmax = Math.max(0, xmin + random(8) - 2);
      const xips = Array.from({ length: random(4) }, () => Math.max(0, xmin + random(10) - 2)).sort(
        () => random(3) - 1,
      );
      candidates.push(`${xmin}:${xmax}:${xips.join(',')}`);
    }
    const { rows } = await db.pool.query<{ text: string; valid: boolean }>(
      `SELECT text, pg_input_is_valid(text, 'pg_snapshot') AS valid FROM unnest($1::text[]) AS text`,
      [candidates],
    );
    // Never accept what the database refuses: that is what would fail the shared statement.
    expect(rows.filter((row) => isSnapshotText(row.text) && !row.valid)).toEqual([]);
    // Stricter only past the xid8 range, where Postgres' strtou64 saturates instead of refusing.
    expect(rows.filter((row) => !isSnapshotText(row.text) && row.valid).map((row) => row.text)).toEqual([
      '18446744073709551616:18446744073709551616:',
    ]);
    // Both answers occur, so the comparison says something.
    expect(new Set(rows.map((row) => row.valid))).toEqual(new Set([true, false]));
  });

  it('snapshotSees agrees with pg_visible_in_snapshot, stamps included', async () => {
    const snapshots = ['846:850:848,849', '846:850:', '840:840:', '846:850:846,849@17', '5:9:5,6,8@0'];
    const cases = snapshots.flatMap((snapshot) => Array.from({ length: 14 }, (_, i) => ({ snapshot, xid: 838 + i })));
    cases.push({ snapshot: '5:9:5,6,8@0', xid: 6 }, { snapshot: '5:9:5,6,8@0', xid: 7 });
    const { rows } = await db.pool.query<{ snapshot: string; xid: string; visible: boolean }>(
      `SELECT c.snapshot, c.xid::text AS xid,
              pg_visible_in_snapshot(c.xid::text::xid8, split_part(c.snapshot, '@', 1)::pg_snapshot) AS visible
         FROM unnest($1::text[], $2::bigint[]) AS c(snapshot, xid)`,
      [cases.map((c) => c.snapshot), cases.map((c) => c.xid)],
    );
    expect(rows.map((row) => snapshotSees(row.snapshot, BigInt(row.xid)))).toEqual(rows.map((row) => row.visible));
    expect(new Set(rows.map((row) => row.visible))).toEqual(new Set([true, false]));
  });

  it('refuses a split key outside the bigint range', () => {
    const cursor = (split: string) => sealCursor(['stream', 2, 'table', '840:840:', '840:840:', split]);
    expect(decodeChangeCursor('after', cursor('9223372036854775807'), 'table').split).toBe(9223372036854775807n);
    expect(() => decodeChangeCursor('after', cursor('9999999999999999999'), 'table')).toThrow(
      /^after: is not a valid stream cursor/,
    );
  });

  it('expires a cursor of a later format (a gateway rolled back) rather than calling it invalid', () => {
    const later = sealCursor(['stream', 3, 'table', 'a form this version does not know']);
    let refusal: unknown;
    try {
      decodeChangeCursor('after', later, 'table');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({
      message: expect.stringMatching(/^after: this cursor is from a newer version of the gateway .*streamCursor/),
      extensions: { code: 'CURSOR_EXPIRED', argument: 'after' },
    });
  });
});

describe('a forged cursor fails its sender, and nobody else', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('forged_cursor', { LIVE_POLL_INTERVAL_MS: '50' });
  });
  afterAll(() => gw.close());

  it('refuses snapshots Postgres would refuse, naming after, while an honest subscriber gets its rows', async () => {
    const honest = new TripStream(gw.client('distinct'));
    await honest.started();
    const { xmin, withSnapshot } = await cursorForger(gw);
    const forged = [
      `${xmin}:${xmin}:${xmin + 50n}`, // an in-progress id outside [xmin, xmax)
      `${xmin + 100n}:${xmin}:`, // xmin after xmax
      `${xmin}:${xmin + 9n}:${xmin + 4n},${xmin + 2n}`, // in-progress ids out of order
    ];
    for (const snapshot of forged) {
      for (const mode of ['distinct', 'single'] as const) {
        const hostile = new TripStream(gw.client(mode), { after: withSnapshot(snapshot) });
        await hostile.untilEnded();
        expect(hostile.errors[0]).toMatchObject({
          message: expect.stringMatching(/^after: is not a valid stream cursor/) as unknown,
          extensions: { code: 'BAD_USER_INPUT', argument: 'after' },
        });
      }
    }
    await insertTrips(gw.database.pool, [7001, 7002]);
    await honest.untilRows(2, 5000);
    expect(honest.ids).toEqual(['7001', '7002']);
    expect(gw.app.live.feed.stats().failedStatements).toBe(0);
  });
});
