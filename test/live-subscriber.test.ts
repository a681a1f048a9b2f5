import { describe, expect, it } from 'vitest';
import type { FeedPosition } from '../src/live/position.js';
import { TripStreamTermination, TripSubscriber, type FeedChunk, type TripBatch } from '../src/live/subscriber.js';
import type { MatchableTripRow } from '../src/trips/match-filter.js';
import { parseTripFilter } from '../src/trips/parse-filter.js';

/** The subscriber's queue logic alone: the orderings the feed produces only under rare timing. */
function row(id: number): MatchableTripRow {
  return {
    id: String(id),
    tpep_pickup_datetime: null,
    tpep_dropoff_datetime: null,
    trip_distance: null,
    fare_amount: null,
    pickup_zip: null,
    dropoff_zip: null,
    pickupMicros: null,
    dropoffMicros: null,
  };
}

function chunk(first: number, last: number, upTo = last): FeedChunk {
  return { rows: Array.from({ length: last - first + 1 }, (_, i) => row(first + i)), upTo: BigInt(upTo) };
}

function subscriber(options: { bufferRows?: number; eventMaxRows?: number; resumeFrom?: FeedPosition } = {}) {
  const released: TripSubscriber[] = [];
  const counters = { directEvents: 0, rowsDelivered: 0, tooSlow: 0, ticks: 0 };
  const sub = new TripSubscriber({
    filter: parseTripFilter(null),
    matches: () => true,
    resumeFrom: options.resumeFrom,
    resumeCursor: options.resumeFrom === undefined ? undefined : `c${String(options.resumeFrom)}`,
    bufferRows: options.bufferRows ?? 100,
    eventMaxRows: options.eventMaxRows ?? 100,
    encodeCursor: (position) => `c${String(position)}`,
    release: (s) => released.push(s),
    counters,
  });
  return { sub, released, counters };
}

async function batch(sub: TripSubscriber): Promise<TripBatch> {
  const result = await sub.next();
  if (result.done || result.value instanceof TripStreamTermination) throw new Error('expected a batch');
  return result.value;
}

const ids = (b: TripBatch) => b.trips.map((trip) => Number(trip.id));

describe('TripSubscriber', () => {
  it('starts live with an empty event carrying the start cursor, then batches with the covered position', async () => {
    const { sub } = subscriber();
    sub.startLive(10n);
    expect(await batch(sub)).toEqual({ trips: [], cursor: 'c10' });
    sub.offer(chunk(11, 13));
    sub.offer({ rows: [], upTo: 20n }); // rows 14..20 did not match the filter
    const b = await batch(sub);
    expect(ids(b)).toEqual([11, 12, 13]);
    expect(b.cursor).toBe('c20');
  });

  it('sends each shared chunk as its own event, and merges the others', async () => {
    const { sub } = subscriber({ eventMaxRows: 10 });
    sub.startLive(0n);
    await batch(sub);
    sub.offer({ ...chunk(1, 3), shared: true });
    sub.offer({ ...chunk(4, 5), shared: true });
    sub.acceptCatchUp(chunk(6, 7).rows, 7n);
    sub.acceptCatchUp(chunk(8, 9).rows, 9n);
    const events = [await batch(sub), await batch(sub), await batch(sub)];
    expect(events.map(ids)).toEqual([
      [1, 2, 3],
      [4, 5],
      [6, 7, 8, 9],
    ]);
    expect(events.map((e) => e.cursor)).toEqual(['c3', 'c5', 'c9']);
  });

  it('splits a long queue into events of at most eventMaxRows, each cursor at its last row', async () => {
    const { sub } = subscriber({ eventMaxRows: 10 });
    sub.startLive(0n);
    await batch(sub);
    sub.offer(chunk(1, 7));
    sub.offer(chunk(8, 25, 30));
    const events = [await batch(sub), await batch(sub), await batch(sub)];
    expect(events.map(ids)).toEqual([
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
      [21, 22, 23, 24, 25],
    ]);
    expect(events.map((e) => e.cursor)).toEqual(['c10', 'c20', 'c30']);
  });

  it('hands subscribers with the same filter the same batch object for a chunk', async () => {
    const a = subscriber().sub;
    const b = subscriber().sub;
    for (const sub of [a, b]) {
      sub.startLive(0n);
      await batch(sub);
    }
    const shared = { ...chunk(1, 5), shared: true };
    a.offer(shared);
    b.offer(shared);
    expect(await batch(a)).toBe(await batch(b));
  });

  it('lets a reader that keeps up take a burst larger than the bound within one tick (SUBSCRIBER_TOO_SLOW false positive)', async () => {
    const { sub, released, counters } = subscriber({ bufferRows: 10, eventMaxRows: 5 });
    sub.startLive(0n);
    await batch(sub);
    counters.ticks = 1;
    // One sync of 25 rows arrives as five pages in one tick, before the reader could take any of them.
    for (let first = 1; first <= 25; first += 5) sub.offer(chunk(first, first + 4));
    const read: number[] = [];
    while (read.length < 25) read.push(...ids(await batch(sub)));
    expect(read).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    counters.ticks = 2;
    sub.offer(chunk(26, 30));
    expect(ids(await batch(sub))).toEqual([26, 27, 28, 29, 30]);
    expect(released).toEqual([]);
    expect(counters.rowsDelivered).toBe(30);
  });

  it('cuts off a client that falls behind the bound, with its last cursor, then completes; released once', async () => {
    const { sub, released, counters } = subscriber({ bufferRows: 10 });
    sub.startLive(0n);
    await batch(sub);
    counters.ticks = 1;
    sub.offer(chunk(1, 6));
    expect((await batch(sub)).cursor).toBe('c6');
    counters.ticks = 2;
    sub.offer(chunk(7, 12));
    sub.offer(chunk(13, 18)); // 12 queued, but all from this tick: a burst, not lag
    expect(released).toEqual([]);
    counters.ticks = 3;
    sub.offer(chunk(19, 19)); // the 12 rows of the previous tick are still unread: 12 > 10 behind
    expect(released).toEqual([sub]);
    expect(counters.tooSlow).toBe(1);
    const end = await sub.next();
    expect(end.value).toBeInstanceOf(TripStreamTermination);
    const error = (end.value as TripStreamTermination).error;
    expect(error.extensions).toMatchObject({ code: 'SUBSCRIBER_TOO_SLOW', cursor: 'c6' });
    expect(error.message).toContain('after: "c6"');
    expect(await sub.next()).toEqual({ done: true, value: undefined });
    await sub.return();
    expect(released).toHaveLength(1);
  });

  it('settles a pending next() with done when the client goes away, and releases once', async () => {
    const { sub, released } = subscriber();
    sub.startLive(0n);
    await batch(sub);
    const pending = sub.next();
    await sub.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    await sub.return();
    expect(released).toHaveLength(1);
    sub.offer(chunk(1, 3)); // a late delivery is ignored
    expect(await sub.next()).toEqual({ done: true, value: undefined });
  });

  it('parks feed rows during a catch-up and appends them, without overlap, when it goes live', async () => {
    const { sub } = subscriber({ resumeFrom: 50n });
    sub.startCatchUp(100n);
    sub.offer(chunk(101, 110));
    sub.acceptCatchUp(chunk(51, 100).rows, 100n);
    expect(sub.position).toBe(100n);
    sub.goLive();
    expect(ids(await batch(sub))).toEqual(Array.from({ length: 60 }, (_, i) => 51 + i));
    sub.offer(chunk(111, 112));
    expect(ids(await batch(sub))).toEqual([111, 112]);
  });

  it('drops parked rows past the bound and moves the catch-up target instead', () => {
    const { sub } = subscriber({ resumeFrom: 50n, bufferRows: 10 });
    sub.startCatchUp(100n);
    sub.offer(chunk(101, 108));
    expect(sub.catchUpTarget).toBe(100n);
    sub.offer(chunk(109, 115)); // 15 parked > 10
    expect(sub.catchUpTarget).toBe(115n);
    sub.acceptCatchUp(chunk(51, 115).rows, 115n);
    sub.goLive();
    expect(sub.state).toBe('live');
    expect(sub.position).toBe(115n);
    expect(sub.queuedRows).toBe(65);
  });

  it('skips rows up to a cursor that is ahead of the feed', async () => {
    const { sub } = subscriber({ resumeFrom: 105n });
    sub.startCatchUp(100n);
    sub.offer(chunk(101, 110));
    sub.goLive();
    expect(ids(await batch(sub))).toEqual([106, 107, 108, 109, 110]);
  });

  it('waits for room before another catch-up page, and not once the client is gone', async () => {
    const { sub } = subscriber({ resumeFrom: 0n, bufferRows: 10, eventMaxRows: 4 });
    sub.startCatchUp(100n);
    sub.acceptCatchUp(chunk(1, 8).rows, 8n);
    let room = false;
    const waiting = sub.waitForRoom().then(() => (room = true));
    await batch(sub); // 4 left: at most half the bound
    await waiting;
    expect(room).toBe(true);
    sub.acceptCatchUp(chunk(9, 16).rows, 16n);
    const gone = sub.waitForRoom();
    await sub.return();
    await gone;
  });

  it('hands shared batches to a direct delivery only while a read waits and nothing is queued, in order', async () => {
    const { sub, counters } = subscriber({ eventMaxRows: 10 });
    const direct: number[][] = [];
    let accept = true;
    sub.deliverDirectly((event) => {
      if (!accept) return false;
      direct.push(ids(event as TripBatch));
      return true;
    });
    sub.startLive(0n);
    // The first event is this subscriber's own (its start cursor): never direct.
    expect(await batch(sub)).toEqual({ trips: [], cursor: 'c0' });

    // No read waiting: queued, then read through next(), not offered directly.
    sub.offer({ ...chunk(1, 2), shared: true });
    expect(ids(await batch(sub))).toEqual([1, 2]);
    expect(direct).toEqual([]);

    // A read waits: shared batches go direct and the read stays pending.
    const pending = sub.next();
    sub.offer({ ...chunk(3, 4), shared: true });
    sub.offer({ ...chunk(5, 5), shared: true });
    expect(direct).toEqual([[3, 4], [5]]);
    expect(counters.directEvents).toBe(2);
    expect(sub.resumeCursor).toBe('c5');

    // Rows that are not a shared batch (a catch-up page) settle the read instead.
    sub.acceptCatchUp(chunk(6, 7).rows, 7n);
    const read = await pending;
    expect(read.done).toBe(false);
    expect(ids(read.value as TripBatch)).toEqual([6, 7]);

    // Declined (say the socket is full): the event goes through next(), nothing is lost.
    accept = false;
    const next = sub.next();
    sub.offer({ ...chunk(8, 9), shared: true });
    expect(ids((await next).value as TripBatch)).toEqual([8, 9]);
    expect(direct).toEqual([[3, 4], [5]]);
    expect(counters.directEvents).toBe(2);
  });
});
