/**
 * Shutdown as SIGTERM runs it (main.ts): the live feed stops (each subscriber gets SHUTTING_DOWN with its
 * cursor), then the listener closes. Requests already running must still get their answers (they were cut,
 * "Empty reply from server", while the log said 200), and a single-connection event stream must end as a
 * complete HTTP response, not a cut connection.
 */
import http from 'node:http';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../src/server/http/listen.js';
import { lockWaiters } from './support/database.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrips, sleep } from './support/live.js';
import { send as request } from './support/raw-sse.js';

const TIMEOUTS = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, shutdownGraceMs: 5_000 };

/** A trips page whose statement waits on a lock held by `lock` (a long request), once it is waiting. */
async function requestHeldByLock(origin: string, lock: pg.PoolClient, pool: pg.Pool) {
  await lock.query('BEGIN; LOCK TABLE "default".trips_synced IN ACCESS EXCLUSIVE MODE');
  const answer = request(
    origin,
    'POST',
    '/graphql',
    { 'content-type': 'application/json', accept: 'application/json' },
    JSON.stringify({ query: '{ trips(first: 3) { edges { node { tripId } } } }' }),
  );
  for (let waited = 0; waited < 100 && (await lockWaiters(pool)).length === 0; waited += 1) await sleep(20);
  // Wrapped: returned bare, the async function's promise would wait for the answer itself.
  return { answer };
}

describe('shutting down', () => {
  let gw: TestGateway | undefined;
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.close();
    await gw?.close();
    gw = undefined;
    server = undefined;
  });

  async function start(label: string): Promise<string> {
    gw = await startTestGateway(label, { LIVE_POLL_INTERVAL_MS: '100' });
    await insertTrips(gw.database.pool, [1, 2, 3]);
    server = await listen(gw.app.gateway, 0, '127.0.0.1', TIMEOUTS);
    return new URL(server.url).origin;
  }

  it('lets a request that is running finish, then closes', async () => {
    const origin = await start('shutdown_inflight');
    const lock = await gw!.database.pool.connect();
    let closed = false;
    try {
      // The page's statement waits on the lock: the request is running when the listener closes.
      const { answer } = await requestHeldByLock(origin, lock, gw!.database.pool);
      const closing = server!.close().then(() => (closed = true));
      await sleep(300);
      expect(closed).toBe(false);
      await lock.query('COMMIT');
      const { status, body } = await answer;
      expect(status).toBe(200);
      expect(JSON.parse(body)).toEqual({
        data: { trips: { edges: [{ node: { tripId: '3' } }, { node: { tripId: '2' } }, { node: { tripId: '1' } }] } },
      });
      await closing;
      server = undefined;
    } finally {
      lock.release();
    }
    // No new connection once closed.
    await expect(request(origin, 'GET', '/health', {})).rejects.toThrow();
  });

  it('cuts a request still running when the grace period ends, and says how many it cut', async () => {
    gw = await startTestGateway('shutdown_cut', { LIVE_POLL_INTERVAL_MS: '100' });
    server = await listen(gw.app.gateway, 0, '127.0.0.1', { ...TIMEOUTS, shutdownGraceMs: 300 });
    const origin = new URL(server.url).origin;
    const lock = await gw.database.pool.connect();
    try {
      const answer = (await requestHeldByLock(origin, lock, gw.database.pool)).answer.then(
        () => 'answered',
        () => 'cut',
      );
      expect(await server.close()).toEqual({ cut: 1 });
      server = undefined;
      expect(await answer).toBe('cut');
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
  });

  it('ends a single-connection event stream as a complete response, after SHUTTING_DOWN', async () => {
    const origin = await start('shutdown_stream');
    const reserved = await request(origin, 'PUT', '/graphql/stream', { accept: 'text/plain' });
    expect(reserved.status).toBe(201);
    const token = reserved.body;
    const stream = new Promise<{ complete: boolean; text: string }>((resolve, reject) => {
      const outgoing = http.request(`${origin}/graphql/stream`, {
        headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token },
        agent: false,
      });
      outgoing.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        // 'end' only for a body that ended as HTTP says (the last chunk); a cut connection is 'aborted'.
        response.on('end', () => resolve({ complete: response.complete, text }));
        response.on('aborted', () => resolve({ complete: false, text }));
        response.on('error', () => resolve({ complete: false, text }));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
    const started = await request(
      origin,
      'POST',
      '/graphql/stream',
      { 'x-graphql-event-stream-token': token, 'content-type': 'application/json', accept: 'application/json' },
      JSON.stringify({ query: 'subscription { tripsAdded { cursor } }', extensions: { operationId: 'op' } }),
    );
    expect(started.status).toBe(202);
    await sleep(300);

    await gw!.app.live.stop();
    await server!.close();
    server = undefined;
    const { complete, text } = await stream;
    expect(text).toContain('SHUTTING_DOWN');
    expect(text).toMatch(/event: complete/);
    expect(complete).toBe(true);
  });
});
