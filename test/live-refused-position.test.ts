/**
 * The net under decodeChangeCursor: should a position the database refuses ever get past it, the shared
 * statement's failure ends only the subscriber whose cursor it was. The check is loosened here to the
 * shape alone (the format of the earlier gateway), so only the net stands between the cursor and the feed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as PositionModule from '../src/live/capture/position.js';
import { cursorForger, insertTrips, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

vi.mock('../src/live/capture/position.js', async (importOriginal) => {
  const original = await importOriginal<typeof PositionModule>();
  return {
    ...original,
    isStampText: (text: string) => /^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20})*)?(@\d{1,19})?$/.test(text),
  };
});

describe('a position the database refuses', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('refused_position', { LIVE_POLL_INTERVAL_MS: '50' });
  });
  afterAll(() => gw.close());

  it('ends its subscriber with BAD_USER_INPUT; the feed and the others go on', async () => {
    const honest = new TripStream(gw.client('distinct'));
    await honest.started();
    const { xmin, xmax, withSnapshot } = await cursorForger(gw);
    // The page's own xmin and xmax (so the cursor is neither expired nor from before the capture), with an
    // in-progress id past xmax, which Postgres refuses.
    const hostile = new TripStream(gw.client('distinct'), {
      after: withSnapshot(`${xmin}:${xmax}:${xmax + 50n}`),
    });
    await hostile.untilEnded();
    expect(hostile.errors[0]).toMatchObject({
      message: expect.stringMatching(/^after: is not a valid stream cursor \(the database cannot read its position\)/),
      extensions: { code: 'BAD_USER_INPUT', argument: 'after' },
    });
    await insertTrips(gw.database.pool, [8001]);
    await honest.untilRows(1, 5000);
    expect(honest.ids).toEqual(['8001']);
    expect(gw.app.live.feed.stats().failedStatements).toBe(0);
  });
});
