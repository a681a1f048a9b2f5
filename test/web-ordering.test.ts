/**
 * The dashboard's order (web/src/trips/ordering.ts) against the gateway's: the table sorts its loaded rows and
 * places live changes with it, so it must agree with trips(orderBy:) on every ordering, ties and NULLs included.
 * If it did not, a changed row at a page's edge would show twice (in the window and on the next page) or never.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TripFieldsFragment } from '../web/src/gql/graphql.js';
import type { TripChange } from '../web/src/live/trip-change.js';
import {
  compareTripsBy,
  orderByOf,
  orderParam,
  readOrder,
  type SortField,
  type SortKey,
} from '../web/src/trips/ordering.js';
import { TripWindow } from '../web/src/trips/trip-window.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

const FIELDS = `tripId id pickupAt dropoffAt fareAmount tripDistance pickupZip dropoffZip pickupZone { zip borough }`;
const PAGE = `query Page($first: Int!, $after: String, $orderBy: [TripOrderBy!]!) {
  trips(first: $first, after: $after, orderBy: $orderBy) {
    edges { node { ${FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Page {
  nodes: TripFieldsFragment[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const key = (field: SortField, direction: 'asc' | 'desc'): SortKey => ({ field, direction });
const FIELD_NAMES: SortField[] = ['tripId', 'pickupAt', 'dropoffAt', 'fareAmount', 'tripDistance'];
const ORDERS: SortKey[][] = [
  ...FIELD_NAMES.flatMap((field) => [[key(field, 'asc')], [key(field, 'desc')]]),
  [key('fareAmount', 'asc'), key('pickupAt', 'desc')],
  [key('tripDistance', 'desc'), key('dropoffAt', 'asc')],
  [key('dropoffAt', 'desc'), key('fareAmount', 'desc'), key('tripDistance', 'asc')],
];
const describeOrder = (order: SortKey[]) => orderByOf(order).join(',');

let gw: TestGateway;

async function page(orderBy: SortKey[], first: number, after: string | null = null): Promise<Page> {
  const { body } = await gw.query<{
    trips: { edges: { node: TripFieldsFragment }[]; pageInfo: Page['pageInfo'] };
  }>(PAGE, { first, after, orderBy: orderByOf(orderBy) });
  expect(body.errors).toBeUndefined();
  return { nodes: body.data!.trips.edges.map((edge) => edge.node), pageInfo: body.data!.trips.pageInfo };
}

async function trip(id: string): Promise<TripFieldsFragment> {
  const { body } = await gw.query<{ trip: TripFieldsFragment }>(
    `query ($id: BigInt!) { trip(tripId: $id) { ${FIELDS} } }`,
    {
      id,
    },
  );
  expect(body.errors).toBeUndefined();
  return body.data!.trip;
}

/** Fisher–Yates with a fixed seed: the comparator must put rows in order from any arrangement. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

beforeAll(async () => {
  gw = await startTestGateway('web_ordering');
  await insertTrickyTrips(gw.database.pool, 400);
  // The API's DateTime has milliseconds; these are microseconds apart, which the browser cannot order (see
  // docs: the dashboard's known limits). Whole milliseconds here, ties and NULLs kept.
  await gw.database.pool.query(
    `UPDATE "default".trips_synced SET tpep_pickup_datetime = date_trunc('milliseconds', tpep_pickup_datetime),
                                       tpep_dropoff_datetime = date_trunc('milliseconds', tpep_dropoff_datetime)`,
  );
});

afterAll(() => gw?.close());

describe("the dashboard's order", () => {
  for (const order of ORDERS) {
    it(`sorts rows as the gateway does for ${describeOrder(order)}`, async () => {
      const all = await page(order, 1000);
      expect(all.nodes.length).toBe(400);
      const ids = all.nodes.map((node) => node.tripId);
      const resorted = shuffled(all.nodes, 7).sort(compareTripsBy(order));
      expect(resorted.map((node) => node.tripId)).toEqual(ids);
    });
  }

  it('keeps a window of loaded pages plus live changes equal to the table, for a fare order', async () => {
    const order = [key('fareAmount', 'desc')];
    const window = new TripWindow(order);
    const first = await page(order, 50);
    window.addPage(first.nodes, first.pageInfo, 400);
    const boundary = first.nodes.at(-1)!;
    const pool = gw.database.pool;

    // Changes on both sides of the first page's last row: a row raised to the top fare, a loaded row lowered
    // below it, a NULL fare (largest: first when descending), a new trip past the edge, a deleted loaded row,
    // and a row tied with the edge on fare (the id decides which side it falls on).
    const loaded = first.nodes.map((node) => node.tripId);
    const later = (await page(order, 400)).nodes.slice(100).map((node) => node.tripId);
    const [raised, nulled, tiedUp] = later;
    const [lowered, deleted] = [loaded[3]!, loaded[10]!];
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = 1000 WHERE id = $1`, [raised]);
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = NULL WHERE id = $1`, [nulled]);
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = 0 WHERE id = $1`, [lowered]);
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = $2, id = $3 WHERE id = $1`, [
      tiedUp,
      boundary.fareAmount,
      BigInt(boundary.tripId) + 1n,
    ]);
    await pool.query(`DELETE FROM "default".trips_synced WHERE id = $1`, [deleted]);
    await pool.query(
      `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount) VALUES (100000, now(), 0.5)`,
    );
    const tied = String(BigInt(boundary.tripId) + 1n);
    const changes: TripChange[] = [
      { kind: 'UPDATE', tripId: raised!, trip: await trip(raised!) },
      { kind: 'UPDATE', tripId: nulled!, trip: await trip(nulled!) },
      { kind: 'UPDATE', tripId: lowered, trip: await trip(lowered) },
      { kind: 'DELETE', tripId: tiedUp!, trip: null },
      { kind: 'INSERT', tripId: tied, trip: await trip(tied) },
      { kind: 'DELETE', tripId: deleted, trip: null },
      { kind: 'INSERT', tripId: '100000', trip: await trip('100000') },
    ];
    window.apply(changes);

    const shown = window.list().map((row) => row.tripId);
    // NULL is the largest fare: first when descending, then 1000.
    const firstFares = window.list().map((row) => row.fareAmount);
    expect(shown.indexOf(raised!)).toBe(firstFares.lastIndexOf(null) + 1);
    expect(shown).toContain(nulled);
    expect(shown).not.toContain(lowered);
    expect(shown).not.toContain(deleted);
    expect(shown).not.toContain('100000');
    // The tied row's id is above the edge's: descending, it sorts before the edge, so it is in the window.
    expect(shown).toContain(tied);

    // Scrolling on: the next pages bring the rest, with nothing twice and nothing skipped.
    let cursor = first.pageInfo.endCursor;
    while (window.hasNextPage) {
      const next = await page(order, 100, cursor);
      window.addPage(next.nodes, next.pageInfo);
      cursor = next.pageInfo.endCursor;
    }
    const table = await page(order, 1000);
    expect(window.list().map((row) => row.tripId)).toEqual(table.nodes.map((node) => node.tripId));
    expect(window.totalCount).toBe(table.nodes.length);
  });
});

describe("the dashboard's window and a page on its way", () => {
  it('applies the changes delivered while a page was on its way on top of it, and counts every insert', async () => {
    const pool = gw.database.pool;
    const order = [key('tripDistance', 'asc')];
    const count = async () =>
      Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM "default".trips_synced')).rows[0]!.n);
    const window = new TripWindow(order);
    const first = await page(order, 50);
    window.addPage(first.nodes, first.pageInfo, await count());

    // The second page is asked for and read now; the changes below happen after that read, and the stream
    // delivers them before the page arrives.
    window.pageAsked();
    const stale = await page(order, 50, first.pageInfo.endCursor);
    const [deleted, raised, lowered] = [stale.nodes[5]!.tripId, stale.nodes[20]!.tripId, first.nodes[2]!.tripId];
    const edge = stale.nodes.at(-1)!;
    await pool.query(`DELETE FROM "default".trips_synced WHERE id = $1`, [deleted]);
    // Raised to the top of the table (shortest first), and one from the first page moved into the second's range.
    await pool.query(`UPDATE "default".trips_synced SET trip_distance = -1 WHERE id = $1`, [raised]);
    await pool.query(`UPDATE "default".trips_synced SET trip_distance = $2 WHERE id = $1`, [
      lowered,
      edge.tripDistance,
    ]);
    await pool.query(`INSERT INTO "default".trips_synced (id, trip_distance) VALUES (200000, $1), (200001, 1000)`, [
      edge.tripDistance,
    ]);
    window.apply([
      { kind: 'DELETE', tripId: deleted, trip: null },
      { kind: 'UPDATE', tripId: raised, trip: await trip(raised) },
      { kind: 'UPDATE', tripId: lowered, trip: await trip(lowered) },
      { kind: 'INSERT', tripId: '200000', trip: await trip('200000') },
    ]);
    window.addPage(stale.nodes, stale.pageInfo);

    const shown = window.list().map((row) => row.tripId);
    expect(shown).not.toContain(deleted);
    expect(shown[0]).toBe(raised);
    expect(window.list()[0]!.tripDistance).toBe(-1);
    const now = (await page(order, 1000)).nodes.map((node) => node.tripId);
    // Up to the edge the window reached, it holds exactly the table's rows, in order.
    expect(shown).toEqual(now.slice(0, shown.length));

    // A later page loads a row whose insert the stream delivers only afterwards: it still counts.
    window.pageAsked();
    let rest = await page(order, 1000, window.endCursor);
    window.addPage(rest.nodes, rest.pageInfo);
    expect(window.list().map((row) => row.tripId)).toContain('200001');
    window.apply([{ kind: 'INSERT', tripId: '200001', trip: await trip('200001') }]);
    rest = await page(order, 1000);
    expect(window.list().map((row) => row.tripId)).toEqual(rest.nodes.map((node) => node.tripId));
    expect(window.totalCount).toBe(await count());
  });
});

describe("the dashboard's window, left open", () => {
  it('counts the live rows it holds beyond its pages, which useTrips bounds', async () => {
    const order = [key('pickupAt', 'desc')];
    const window = new TripWindow(order);
    const first = await page(order, 50);
    window.addPage(first.nodes, first.pageInfo, 400);
    expect(window.liveSurplus).toBe(0);
    const newest = first.nodes[0]!;
    const inserted = (n: number): TripChange => ({
      kind: 'INSERT',
      tripId: String(300_000 + n),
      trip: { ...newest, tripId: String(300_000 + n), id: `new-${n}`, pickupAt: '2099-01-01T00:00:00.000Z' },
    });
    window.apply([inserted(1), inserted(2), inserted(3)]);
    expect(window.liveSurplus).toBe(3);
    window.apply([{ kind: 'DELETE', tripId: first.nodes[4]!.tripId, trip: null }]);
    expect(window.liveSurplus).toBe(2);
    // A page the reader scrolled to is not live surplus.
    const next = await page(order, 50, first.pageInfo.endCursor);
    window.addPage(next.nodes, next.pageInfo);
    expect(window.liveSurplus).toBe(2);
    expect(window.size).toBe(102);
  });
});

describe("the dashboard's order in the URL", () => {
  it('reads the orders the grid writes, and writes nothing for the default', () => {
    const order = [key('fareAmount', 'asc'), key('pickupAt', 'desc')];
    expect(orderParam(order)).toBe('FARE_AMOUNT_ASC,PICKUP_AT_DESC');
    expect(readOrder(`?order=${orderParam(order)}`)).toEqual({ order });
    expect(orderParam([key('pickupAt', 'desc')])).toBe('');
    expect(readOrder('')).toEqual({ order: [key('pickupAt', 'desc')] });
  });

  it('skips a comma too many, and shows the newest pickups for an order of commas only', () => {
    expect(readOrder('?order=FARE_AMOUNT_DESC,')).toEqual({ order: [key('fareAmount', 'desc')] });
    expect(readOrder('?order=,')).toEqual({ order: [key('pickupAt', 'desc')] });
  });

  it('drops what follows the trip id, as the gateway does', () => {
    expect(readOrder('?order=TRIP_ID_DESC,FARE_AMOUNT_ASC')).toEqual({ order: [key('tripId', 'desc')] });
  });

  it('names an order it cannot read and falls back to the newest pickups', () => {
    expect(readOrder('?order=FARE_DESC')).toEqual({
      order: [key('pickupAt', 'desc')],
      problem: 'order: "FARE_DESC" is not a column the table sorts by',
    });
    expect(readOrder('?order=FARE_AMOUNT_ASC,FARE_AMOUNT_DESC').problem).toBe('order: FARE_AMOUNT is listed twice');
    expect(readOrder('?order=PICKUP_ZIP_ASC').problem).toBe(
      'order: "PICKUP_ZIP_ASC" is not a column the table sorts by',
    );
  });
});
