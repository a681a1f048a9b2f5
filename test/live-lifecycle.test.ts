import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedIds, insertTrips, sleep, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';
import { RawSseSubscription } from './support/raw-sse.js';

const QUERY = 'subscription { tripsAdded { cursor trips { tripId } } }';

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('live streams over their lifetime', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_lifecycle', { LIVE_POLL_INTERVAL_MS: '100', LIVE_KEEPALIVE_MS: '100' });
  });
  afterAll(() => gw.close());

  it('send keep-alive comments on both transports', async () => {
    // Every LIVE_KEEPALIVE_MS on /graphql; graphql-sse's handler sends its
    // first comment at once and then every 12 s (fixed in the library).
    const comments = { distinct: 0, single: 0 };
    const streams = await Promise.all(
      (['distinct', 'single'] as const).map((mode) =>
        RawSseSubscription.open({
          origin: gw.origin,
          mode,
          query: QUERY,
          onEvent: () => {},
          onComment: () => (comments[mode] += 1),
        }),
      ),
    );
    await until(() => comments.distinct >= 3 && comments.single >= 1, 'keep-alive comments');
    for (const stream of streams) stream.close();
  });

  it('end on shutdown with an error event that says where to resume, and resuming loses nothing', async () => {
    const stream = new TripStream(gw.client('single'));
    await stream.started();
    await insertTrips(gw.database.pool, [1, 2, 3]);
    await stream.untilRows(3);
    const cursor = stream.lastCursor!;

    await gw.app.live.stop();
    await stream.untilEnded();
    expect(stream.errors).toHaveLength(1);
    expect(stream.errors[0]!.extensions).toMatchObject({ code: 'SHUTTING_DOWN', cursor });
    expect(stream.errors[0]!.message).toContain(cursor);

    const refused = new TripStream(gw.client('distinct'));
    await refused.untilEnded();
    expect(refused.errors[0]?.extensions?.code).toBe('SHUTTING_DOWN');

    // Rows committed during the restart reach the client that resumes on a new process.
    await insertTrips(gw.database.pool, [4, 5]);
    const restarted = await startLiveGateway(
      'live_lifecycle_2',
      { LIVE_POLL_INTERVAL_MS: '100' },
      { database: gw.database },
    );
    try {
      await insertTrips(restarted.database.pool, [6]);
      const resumed = new TripStream(restarted.client('distinct'), { after: cursor });
      await resumed.untilRows(3);
      expect(resumed.ids).toEqual(await expectedIds(restarted.database.pool, 3));
      resumed.close();
    } finally {
      await restarted.close();
    }
  });
});
