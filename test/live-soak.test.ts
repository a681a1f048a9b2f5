import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyChanges,
  ChangeStream,
  startLiveGateway,
  viewInSql,
  type LiveGateway,
  type Transport,
} from './support/live.js';

/** Seconds of writing; the issue asks for 60, the suite runs a shorter soak (LIVE_SOAK_SECONDS=60 for the full one). */
const SECONDS = Number(process.env.LIVE_SOAK_SECONDS ?? 15);
const KEYS = 20_000;

const FILTERS: { filter: unknown; where: string }[] = [
  { filter: null, where: 'true' },
  { filter: { fareAmount: { gte: 25 } }, where: 'fare_amount >= 25' },
  {
    filter: { or: [{ pickupZip: { in: [10001, 11430] } }, { tripDistance: { isNull: true } }] },
    where: 'pickup_zip IN (10001, 11430) OR trip_distance IS NULL',
  },
];

/**
 * Four writers insert, update and delete random keys (about 1,000 rows/s in
 * all, each in its own transactions, committing in whatever order they
 * finish) while three filtered tripChanges subscribers per transport follow.
 * Each must end holding exactly its filtered view of the table, and every
 * change it received must fit what it held: no INSERT of a row held, no
 * UPDATE or DELETE of one not held, no UPDATE without a change (a repeat).
 */
describe('soak: concurrent writers on random keys', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_soak', { LIVE_POLL_INTERVAL_MS: '100', LIVE_FEED_BATCH_ROWS: '500' });
  });
  afterAll(() => gw.close());

  it(`every subscriber stays exactly in step (${SECONDS} s of writes)`, async () => {
    const streams = (['distinct', 'single'] as Transport[]).flatMap((mode) =>
      FILTERS.map(({ filter, where }) => ({
        where,
        stream: new ChangeStream(gw.client(mode), { filter }),
      })),
    );
    await Promise.all(streams.map(({ stream }) => stream.started()));

    const deadline = Date.now() + SECONDS * 1000;
    let written = 0;
    const writer = async (seed: number) => {
      let state = seed;
      const random = () => {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        return state / 2 ** 31;
      };
      const client = await gw.database.pool.connect();
      try {
        while (Date.now() < deadline) {
          const started = Date.now();
          const keys = Array.from({ length: 10 }, () => 1 + Math.floor(random() * KEYS));
          await client.query('BEGIN');
          await client.query(
            `INSERT INTO "default".trips_synced (id, fare_amount, pickup_zip, trip_distance)
             SELECT k, (k * 7 + $2::int) % 50, (ARRAY[10001, 10011, 11430])[1 + (k + $2::int) % 3],
                    CASE WHEN (k + $2::int) % 5 = 0 THEN NULL ELSE k % 9 END
               FROM unnest($1::int8[]) k
             ON CONFLICT (id) DO UPDATE SET fare_amount = EXCLUDED.fare_amount, pickup_zip = EXCLUDED.pickup_zip,
                                            trip_distance = EXCLUDED.trip_distance`,
            // Distinct: one INSERT ... ON CONFLICT DO UPDATE may not touch a row twice.
            [[...new Set(keys.slice(0, 6))].sort((a, b) => a - b), Math.floor(random() * 1000)],
          );
          await client.query(
            `UPDATE "default".trips_synced SET fare_amount = fare_amount + 13 WHERE id = ANY($1::int8[])`,
            [keys.slice(6, 8)],
          );
          await client.query(`DELETE FROM "default".trips_synced WHERE id = ANY($1::int8[])`, [keys.slice(8)]);
          // Hold some transactions open a little, so commits interleave out of order.
          if (random() < 0.2) await new Promise((resolve) => setTimeout(resolve, random() * 50));
          await client.query('COMMIT');
          written += 10;
          const wait = 40 - (Date.now() - started);
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // Deadlocks between writers on shared keys are expected; anything else fails the test.
        if ((error as { code?: string }).code !== '40P01') throw error;
      } finally {
        client.release();
      }
    };
    await Promise.all([writer(1), writer(2), writer(3), writer(4)]);
    expect(written).toBeGreaterThan(SECONDS * 200);

    for (const { where, stream } of streams) {
      const want = await viewInSql(gw.database.pool, where);
      await stream.until(
        () => {
          const probe = new Map<string, string>();
          applyChanges(probe, stream.changes);
          return probe.size === want.size && [...probe].every(([id, value]) => want.get(id) === value);
        },
        `the view ${where} to match the table`,
        120_000,
      );
      const view = new Map<string, string>();
      expect(applyChanges(view, stream.changes), where).toEqual([]);
      expect(stream.errors).toEqual([]);
      for (const batch of stream.batches) {
        expect(new Set(batch.changes.map((c) => c.tripId)).size).toBe(batch.changes.length);
      }
      stream.close();
    }
  }, 300_000);
});
