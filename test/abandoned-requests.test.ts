/**
 * A client that goes away (a closed tab, a BI tool's timeout, a filter typed over the previous one) no longer
 * leaves its statements running: they kept a pooled connection until they ended or PG_STATEMENT_TIMEOUT_MS
 * stopped them, so a few abandoned slow requests took the whole pool. The gateway now cancels them with the
 * protocol's CancelRequest (db/cancellable-driver.ts), and a cancel must never land on another request's
 * statement on the same connection.
 */
import http from 'node:http';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../src/server/http/listen.js';
import { capturingLogger } from './support/captured-log.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { sleep } from './support/live.js';
import { createTestDatabase, lockWaiters, type TestDatabase } from './support/database.js';
import { startSlowCancelProxy, type SlowCancelProxy } from './support/slow-cancel-proxy.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

const TIMEOUTS = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, shutdownGraceMs: 1_000 };

/** The gateway's statements waiting for a lock on the synced table. */
async function gatewayLockWaiters(pool: pg.Pool): Promise<number> {
  return (await lockWaiters(pool, 'lakebase-graphql')).length;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

/** A POST whose client socket can be destroyed before the answer, as a browser tab closing does. */
function abandonablePost(origin: string, query: string): { destroy(): void; settled: Promise<void> } {
  const request = http.request(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
  });
  const settled = new Promise<void>((resolve) => {
    request.on('error', () => resolve());
    request.on('close', () => resolve());
  });
  request.end(JSON.stringify({ query }));
  return { destroy: () => request.destroy(), settled };
}

describe('requests their clients abandon', () => {
  let gw: TestGateway | undefined;
  let server: Listening | undefined;
  let proxy: SlowCancelProxy | undefined;
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await server?.close();
    await gw?.close();
    await proxy?.close();
    await database?.drop();
    gw = undefined;
    server = undefined;
    proxy = undefined;
    database = undefined;
  });

  it('have their running statements cancelled, which frees the pool', async () => {
    const { logger, lines } = capturingLogger('info');
    gw = await startTestGateway('abandoned_cancel', { PG_POOL_MAX: '3', ROLLUPS: 'off' }, { logger });
    await insertTrickyTrips(gw.database.pool, 200);
    server = await listen(gw.app.gateway, 0, '127.0.0.1', TIMEOUTS);
    const origin = new URL(server.url).origin;
    const locker = await gw.database.pool.connect();
    try {
      // Every statement on the synced table now waits for the lock, as a slow statement would run.
      await locker.query('BEGIN; LOCK TABLE "default".trips_synced IN ACCESS EXCLUSIVE MODE');
      const abandoned = [
        abandonablePost(origin, '{ trips(first: 5) { edges { node { tripId } } } }'),
        abandonablePost(origin, '{ tripStats { count fareAmount { sum } } }'),
        abandonablePost(origin, '{ tripGroups(groupBy: [PICKUP_ZIP]) { pickupZip stats { count } } }'),
      ];
      await until(
        'three statements wait for the lock',
        async () => (await gatewayLockWaiters(gw!.database.pool)) === 3,
      );
      for (const request of abandoned) request.destroy();
      await Promise.all(abandoned.map((request) => request.settled));
      // The lock is still held: only a cancel ends these waits.
      await until('no statement waits any more', async () => (await gatewayLockWaiters(gw!.database.pool)) === 0);

      // The pool is whole again: three new requests run at once (each would wait for a connection otherwise).
      const answers = Promise.all(
        [1, 2, 3].map(() => gw!.query<{ tripStats: { count: string } }>('{ tripStats { count } }')),
      );
      await until(
        'three new statements wait for the lock',
        async () => (await gatewayLockWaiters(gw!.database.pool)) === 3,
      );
      await locker.query('COMMIT');
      for (const { status, body } of await answers) {
        expect(status).toBe(200);
        expect(body).toEqual({ data: { tripStats: { count: '200' } } });
      }
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      locker.release();
    }
    const cancelled = lines.filter(
      (line) => line.msg === 'the client went away, so its statement was cancelled while it ran',
    );
    expect(cancelled.map((line) => line.level)).toEqual(['info', 'info', 'info']);
    // The access log does not call them served: 499, a client that closed its request (nginx's word).
    const abandonedIds = new Set(cancelled.map((line) => line.requestId));
    const accessLines = lines.filter((line) => line.msg === 'request' && abandonedIds.has(line.requestId));
    expect(accessLines.map((line) => line.status)).toEqual([499, 499, 499]);
    expect(lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
  });

  it('log one line per abandoned request, however many fields its cancelled statement failed', async () => {
    // An abandoned page of 1,000 trips with their zones failed every zone field with the one cancellation of their
    // shared batch, and logged a line for each: 2,000 lines for one closed tab.
    const { logger, lines } = capturingLogger('info');
    gw = await startTestGateway('abandoned_log_once', { ROLLUPS: 'off' }, { logger });
    await insertTrickyTrips(gw.database.pool, 200);
    server = await listen(gw.app.gateway, 0, '127.0.0.1', TIMEOUTS);
    const origin = new URL(server.url).origin;
    const locker = await gw.database.pool.connect();
    try {
      // The page is read; the zones' one batched statement then waits for the lock.
      await locker.query('BEGIN; LOCK TABLE lakebase_graphql.zip_zones IN ACCESS EXCLUSIVE MODE');
      const abandoned = abandonablePost(
        origin,
        '{ trips(first: 50) { edges { node { tripId pickupZone { borough } } } } }',
      );
      await until(
        'the zones statement waits for the lock',
        async () => (await gatewayLockWaiters(gw!.database.pool)) === 1,
      );
      abandoned.destroy();
      await abandoned.settled;
      await until('no statement waits any more', async () => (await gatewayLockWaiters(gw!.database.pool)) === 0);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      locker.release();
    }
    await until('the request is logged', async () =>
      lines.some((line) => line.msg === 'request' && line.status === 499),
    );
    const cancelled = lines.filter(
      (line) => line.msg === 'the client went away, so its statement was cancelled while it ran',
    );
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]!.sameErrorsInResult).toBeGreaterThan(1);
  });

  it('never cancel another request: every answer that was waited for is right', async () => {
    const { logger, lines } = capturingLogger('info');
    // A small pool, so that connections whose statement was cancelled go straight to the next request.
    gw = await startTestGateway('abandoned_race', { PG_POOL_MAX: '4', ROLLUPS: 'off' }, { logger });
    await insertTrickyTrips(gw.database.pool, 100_000);
    const expected = await gw.database.pool.query<{ n: string; fares: string | null }>(
      `SELECT count(*)::text AS n, sum(fare_amount)::text AS fares FROM "default".trips_synced`,
    );
    const queries = [
      // One statement of several milliseconds: most cancels land while it runs.
      `{ tripStats { count } }`,
      // A page, its count and the opposite page's flag: three statements, one after the other.
      `{ trips(first: 3, orderBy: [FARE_AMOUNT_DESC]) { totalCount pageInfo { hasPreviousPage } edges { node { tripId pickupZone { borough } } } } }`,
      // A page in a REPEATABLE READ transaction (the stream position): a cancel inside it rolls it back.
      `{ trips(first: 2) { streamCursor edges { node { tripId } } } }`,
    ];
    const reference = await Promise.all(queries.map((query) => gw!.query(query)));
    for (const { body } of reference) expect(body.errors).toBeUndefined();
    expect(reference[0]!.body.data).toEqual({ tripStats: { count: expected.rows[0]!.n } });

    // Rounds as wide as the pool, so that the aborts land while statements run rather than while they queue.
    const outcomes: { abandon: boolean; index: number; body: { data?: unknown; errors?: unknown[] } | undefined }[] =
      [];
    for (let round = 0; round < 60; round += 1) {
      const wave = await Promise.all(
        [0, 1, 2, 3].map(async (slot) => {
          const index = round * 4 + slot;
          const query = queries[index % queries.length]!;
          const abandon = slot % 2 === 0;
          const controller = new AbortController();
          if (abandon) setTimeout(() => controller.abort(), (round * 5 + slot) % 12);
          try {
            const response = await gw!.app.gateway.fetch('http://gateway.test/graphql', {
              method: 'POST',
              headers: { 'content-type': 'application/json', accept: 'application/json' },
              body: JSON.stringify({ query }),
              signal: controller.signal,
            });
            const body = (await response.json()) as { data?: unknown; errors?: unknown[] };
            return { abandon, index, body };
          } catch {
            return { abandon, index, body: undefined };
          }
        }),
      );
      outcomes.push(...wave);
    }
    for (const { abandon, index, body } of outcomes) {
      if (abandon) continue;
      expect(body?.errors, `request ${index}`).toBeUndefined();
      const wanted = reference[index % queries.length]!.body.data as Record<string, unknown>;
      if (index % queries.length === 2) {
        // Its stream cursor names the moment of reading; the page itself must be the same.
        const got = body?.data as { trips: { edges: unknown } };
        expect(got.trips.edges).toEqual((wanted as { trips: { edges: unknown } }).trips.edges);
      } else {
        expect(body?.data, `request ${index}`).toEqual(wanted);
      }
    }
    // The race was real: statements were cancelled while they ran, on connections the others then used.
    const cancelledWhileRunning = lines.filter((line) => line.msg.endsWith('cancelled while it ran'));
    expect(cancelledWhileRunning.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
    // And the pool still answers.
    expect((await gw.query('{ tripStats { count } }')).body).toEqual({
      data: { tripStats: { count: expected.rows[0]!.n } },
    });
  });

  it('let no statement start on a connection until its cancel has landed', async () => {
    // A cancel that arrives late (a proxy, a pooler, a long way) must not stop the next request's statement on
    // the same connection: the connection waits for the cancel to be confirmed before it runs anything else.
    database = await createTestDatabase('abandoned_late_cancel');
    const target = new URL(database.url);
    proxy = await startSlowCancelProxy({ host: target.hostname, port: Number(target.port) }, 400);
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    gw = await startTestGateway(
      'abandoned_late_cancel',
      { DATABASE_URL: proxied.toString(), PG_POOL_MAX: '1', ROLLUPS: 'off' },
      { database },
    );
    await insertTrickyTrips(database.pool, 50);
    const [first, second] = [await database.pool.connect(), await database.pool.connect()];
    try {
      await first.query('BEGIN; LOCK TABLE "default".trips_synced IN ACCESS EXCLUSIVE MODE');
      const controller = new AbortController();
      const abandoned = Promise.resolve(
        gw.app.gateway.fetch('http://gateway.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: '{ tripStats { count } }' }),
          signal: controller.signal,
        }),
      ).catch(() => undefined);
      await until('the first statement waits', async () => (await gatewayLockWaiters(database!.pool)) === 1);
      // The next request queues for the only connection.
      const waited = gw.query<{ trips: { edges: unknown[] } }>('{ trips(first: 2) { edges { node { tripId } } } }');
      controller.abort();
      await until('the cancel reaches the proxy', async () => proxy!.cancels.received === 1);
      // The first statement ends by itself before its cancel arrives; a second lock then holds the next statement
      // for longer than the cancel takes to arrive.
      await first.query('COMMIT');
      const relocked = second.query('BEGIN; LOCK TABLE "default".trips_synced IN ACCESS EXCLUSIVE MODE');
      await relocked;
      await until('the cancel has been passed on', async () => proxy!.cancels.forwarded === 1);
      await sleep(300);
      await second.query('COMMIT');
      const { status, body } = await waited;
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data?.trips.edges).toHaveLength(2);
      await abandoned;
    } finally {
      await first.query('ROLLBACK').catch(() => {});
      await second.query('ROLLBACK').catch(() => {});
      first.release();
      second.release();
    }
  });
});
