/**
 * A database that cannot be reached (down, restarting, a network cut) is an outage the client should wait out,
 * not a bug: every query answers DATABASE_UNAVAILABLE, which says to retry, and the log says it once rather than
 * once per request. It read as INTERNAL_SERVER_ERROR ("it was logged with this request id"), which a BI tool or a
 * dashboard could not tell from a gateway bug.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger } from './support/captured-log.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { startSlowCancelProxy, type SlowCancelProxy } from './support/slow-cancel-proxy.js';

describe('a database that cannot be reached', () => {
  let gw: TestGateway | undefined;
  let proxy: SlowCancelProxy | undefined;
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await gw?.close();
    await proxy?.close();
    await database?.drop();
    gw = undefined;
    proxy = undefined;
    database = undefined;
  });

  it('answers DATABASE_UNAVAILABLE, says to retry, and warns once for many requests', async () => {
    const { logger, lines } = capturingLogger('info');
    database = await createTestDatabase('database_unavailable');
    const target = new URL(database.url);
    // Every connection of the gateway goes through this proxy; closing it is the network cut.
    proxy = await startSlowCancelProxy({ host: target.hostname, port: Number(target.port) }, 0);
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    gw = await startTestGateway(
      'database_unavailable',
      { DATABASE_URL: proxied.toString(), ROLLUPS: 'off', PG_POOL_WAIT_MS: '2000' },
      { database, logger },
    );
    expect((await gw.query('{ tripStats { count } }')).body).toEqual({ data: { tripStats: { count: '0' } } });

    await proxy.close();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => gw!.query('{ tripStats { count } trips(first: 1) { totalCount } }')),
    );
    for (const { status, body } of answers) {
      expect(status).toBe(200);
      expect(body.errors?.length).toBeGreaterThan(0);
      for (const error of body.errors ?? []) {
        expect(error.extensions?.code).toBe('DATABASE_UNAVAILABLE');
        expect(error.message).toMatch(/^the database cannot be reached right now; retry shortly/);
        // Nothing about hosts or ports reaches the client.
        expect(error.message).not.toContain(String(proxy.port));
      }
    }
    const warnings = lines.filter((line) => line.msg === 'database unavailable; requests fail until it answers');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe('warn');
    expect(String(warnings[0]!.detail)).not.toBe('');
    expect(lines.filter((line) => line.level === 'error' && line.msg === 'resolver failed')).toEqual([]);
  });
});

describe('a table the gateway reads that does not exist', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('answers TABLE_MISSING saying why (the log names the table), not an internal error', async () => {
    // Before the first sync has created the synced table, or after an operator dropped it.
    const { logger, lines } = capturingLogger('info');
    gw = await startTestGateway('table_missing', { ROLLUPS: 'off' }, { logger });
    await gw.database.pool.query('DROP TABLE "default".trips_synced');
    for (const query of ['{ trips(first: 2) { edges { node { tripId } } } }', '{ tripStats { count } }']) {
      const { body } = await gw.query(query);
      expect(body.data ?? null, query).toBeNull();
      expect(body.errors?.[0]?.extensions?.['code'], query).toBe('TABLE_MISSING');
      expect(body.errors?.[0]?.message, query).toMatch(
        /^a table this answer needs does not exist: before the first sync creates the synced table/,
      );
      expect(JSON.stringify(body), query).not.toMatch(/trips_synced|relation/);
    }
    const warning = lines.find((line) => line.msg === 'a table the gateway reads does not exist');
    expect(String(warning?.detail)).toBe('relation "default.trips_synced" does not exist');
    expect(lines.some((line) => line.level === 'error')).toBe(false);
  });
});
