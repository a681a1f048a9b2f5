import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTrips, startLiveGateway, type LiveGateway, type Transport } from './support/live.js';
import { payloadOf, RawSseSubscription } from './support/raw-sse.js';

const QUERY = `subscription($filter: TripFilter, $after: String) {
  tripsAdded(filter: $filter, after: $after) { cursor trips { tripId } } }`;

/** Counts of the process's live handles by kind (sockets, timers...), from Node's public API. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('disconnecting releases everything', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_leaks', { LIVE_POLL_INTERVAL_MS: '200' });
    await insertTrips(
      gw.database.pool,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });
  afterAll(() => gw.close());

  it('after 10,000 connect/disconnect cycles over both transports', async () => {
    const baseline = activeResources();
    const connections = () =>
      new Promise<number>((resolve, reject) =>
        gw.http.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    // A cursor to resume from, so some cycles go through the catch-up path.
    let resolveCursor: (cursor: string) => void = () => {};
    const cursor = new Promise<string>((resolve) => (resolveCursor = resolve));
    const probeStream = await RawSseSubscription.open({
      origin: gw.origin,
      mode: 'distinct',
      query: QUERY,
      onEvent: (event) => {
        const result = payloadOf(event, 'distinct') as { data?: { tripsAdded: { cursor: string } } } | undefined;
        if (result?.data) resolveCursor(result.data.tripsAdded.cursor);
      },
    });
    const probe = await cursor;
    probeStream.close();
    await until(async () => gw.app.live.feed.stats().live === 0 && (await connections()) === 0, 'the probe to go');

    const cycles = 10_000;
    const concurrency = 64;
    let started = 0;
    let firstEvents = 0;
    const cycle = async (n: number) => {
      const mode: Transport = n % 2 === 0 ? 'distinct' : 'single';
      const variables: Record<string, unknown> = {};
      if (n % 3 === 0) variables.filter = { pickupZip: { in: [10001 + (n % 7)] } };
      if (n % 5 === 0) variables.after = probe;
      let gotFirst: () => void = () => {};
      const first = new Promise<void>((resolve) => (gotFirst = resolve));
      const subscription = await RawSseSubscription.open({
        origin: gw.origin,
        mode,
        query: QUERY,
        variables,
        onEvent: (event) => {
          if (event.event === 'next') gotFirst();
        },
      });
      // Every 4th client hangs up at once, before the stream has even started.
      if (n % 4 !== 0) {
        await first;
        firstEvents += 1;
      }
      subscription.close();
    };
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (started < cycles) await cycle(started++);
      }),
    );
    expect(firstEvents).toBe(cycles - cycles / 4);

    await until(async () => {
      const stats = gw.app.live.feed.stats();
      return stats.pending + stats.catchingUp + stats.live === 0 && (await connections()) === 0;
    }, 'every subscriber and connection to be released');
    expect(gw.app.live.feed.stats()).toMatchObject({
      pending: 0,
      catchingUp: 0,
      live: 0,
      filterGroups: 0,
      queuedRows: 0,
    });

    // No timers (SSE keep-alive pings, backoffs) or sockets left behind by the cycles.
    await until(
      () => {
        const now = activeResources();
        return Object.keys(now).every((kind) => (now[kind] ?? 0) <= (baseline[kind] ?? 0) + 2);
      },
      `handles back to the baseline ${JSON.stringify(baseline)}`,
    );
  }, 300_000);
});
