import { afterEach, describe, expect, it } from 'vitest';
import { STALL_GRACE_MS } from '../src/db/cancellable-driver.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { startStallingProxy, type StallingProxy } from './support/stalling-proxy.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/**
 * A database that answers nothing (a hung pooler or proxy, a frozen compute): the statement timeout runs on the
 * server, so its error never arrives either. Requests waited for as long as the stall lasted (eight minutes in
 * an audit), cached ones too, since every cache hit first reads the table's change signal.
 */
describe('a database that stops answering without closing its connections', () => {
  let database: TestDatabase | undefined;
  let proxy: StallingProxy | undefined;
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    await proxy?.close();
    await database?.drop();
    gw = proxy = database = undefined;
  });

  it('answers DATABASE_UNAVAILABLE a little after the statement timeout, then serves again once it answers', async () => {
    database = await createTestDatabase('database_stall');
    const target = new URL(database.url);
    proxy = await startStallingProxy({ host: target.hostname, port: Number(target.port) });
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    const statementTimeoutMs = 500;
    gw = await startTestGateway(
      'database_stall',
      {
        DATABASE_URL: proxied.toString(),
        PG_STATEMENT_TIMEOUT_MS: String(statementTimeoutMs),
        PG_POOL_MAX: '2',
        PG_POOL_WAIT_MS: '2000',
        RESPONSE_CACHE: 'on',
        ROLLUPS: 'off',
      },
      { database },
    );
    await insertTrickyTrips(database.pool, 40);
    const count = '{ tripStats { count } }';
    const page = '{ trips(first: 3) { edges { node { tripId } } } }';
    // Warm: the cache holds `count`, the pool holds connections (which will stall, not close).
    expect((await gw.query(count)).body).toEqual({ data: { tripStats: { count: '40' } } });
    expect((await gw.query(page)).body.errors).toBeUndefined();

    proxy.stall();
    const began = performance.now();
    const answers = await Promise.all([gw.query(count), gw.query(page), gw.query(count)]);
    const waitedMs = performance.now() - began;
    const codes = answers.map(({ body }) => body.errors?.[0]?.extensions?.['code']);
    for (const { body } of answers) expect(body.data ?? null).toBeNull();
    // The statement on a stalled pooled connection: past the server's own timeout, the connection is taken
    // for dead. The others wait for a connection (PG_POOL_WAIT_MS: DATABASE_BUSY) or for a new one that never
    // logs in (DATABASE_UNAVAILABLE); both say to retry shortly.
    expect(codes).toContain('DATABASE_UNAVAILABLE');
    for (const code of codes) expect(['DATABASE_UNAVAILABLE', 'DATABASE_BUSY']).toContain(code);
    expect(waitedMs).toBeGreaterThan(statementTimeoutMs + STALL_GRACE_MS - 200);
    // Bounded by the settings (signature read 3 s, statement 0.5 + 5 s, pool wait and connect 2 s each).
    expect(waitedMs).toBeLessThan(20_000);

    proxy.resume();
    await database.pool.query(
      `DELETE FROM "default".trips_synced WHERE id = (SELECT min(id) FROM "default".trips_synced)`,
    );
    // New connections; the stalled ones were closed, not returned to the pool. No stale cached count.
    expect((await gw.query(count)).body).toEqual({ data: { tripStats: { count: '39' } } });
    expect((await gw.query(page)).body.data).toBeDefined();
  }, 90_000);
});
