/**
 * LISTEN where PGHOST is a pooled endpoint host: the gateway notices that
 * notifications do not arrive (probe), says so in the log and keeps the live
 * feed going by polling; with LIVE_LISTEN_HOST (the endpoint's direct host)
 * the LISTEN connection goes there and notifications wake the feed again.
 */
import { createClient } from 'graphql-sse';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { listen } from '../src/server/http/listen.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  startNotificationDroppingProxy,
  type NotificationDroppingProxy,
} from './support/notification-dropping-proxy.js';
import { capturingLogger } from './support/captured-log.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

let proxy: NotificationDroppingProxy;
let gateway: TestGateway | undefined;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  const url = new URL(inject('adminDatabaseUrl'));
  proxy = await startNotificationDroppingProxy({ host: url.hostname, port: Number(url.port) });
});
afterAll(() => proxy.close());
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  for (const database of databases.splice(0)) await database.drop();
});

/** The pool (and, unless LIVE_LISTEN_HOST says otherwise, LISTEN) goes through the "pooled" proxy. */
function pooledUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

/** A database with the synced table, reached through the "pooled" proxy (and directly for arranging rows). */
async function pooledDatabase(label: string): Promise<{ database: TestDatabase; url: string }> {
  const database = await createTestDatabase(label);
  await ensureSyncedTable(database.pool, 'default', 'trips_synced');
  databases.push(database);
  return { database, url: pooledUrl(database.url) };
}

async function firstBatchThenRow(origin: string, database: TestDatabase, id: number): Promise<string[]> {
  const client = createClient({ url: `${origin}/graphql`, retryAttempts: 0 });
  const ids: string[] = [];
  let batches = 0;
  const dispose = client.subscribe<{ tripsAdded: { trips: { tripId: string }[] } }>(
    { query: 'subscription { tripsAdded { cursor trips { tripId } } }' },
    {
      next: (result) => {
        batches += 1;
        for (const trip of result.data?.tripsAdded.trips ?? []) ids.push(trip.tripId);
      },
      error: () => {},
      complete: () => {},
    },
  );
  try {
    await expect.poll(() => batches, { timeout: 20_000 }).toBeGreaterThan(0);
    await database.pool.query(
      `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount) VALUES ($1, now(), 12.5)`,
      [id],
    );
    await expect.poll(() => ids, { timeout: 20_000 }).toEqual([String(id)]);
    return ids;
  } finally {
    dispose();
    client.dispose();
  }
}

describe('LISTEN on a pooled host', () => {
  it('is detected by the probe, logged, and the live feed still delivers by polling', async () => {
    const { logger, lines } = capturingLogger();
    const { database, url } = await pooledDatabase('listen_pooled');
    gateway = await startTestGateway(
      'listen_pooled_gw',
      { DATABASE_URL: url, LIVE_POLL_INTERVAL_MS: '100' },
      { logger },
    );
    const failed = () => lines.find((line) => String(line.error ?? '').includes('did not arrive'));
    await expect.poll(() => failed() !== undefined, { timeout: 20_000 }).toBe(true);
    expect(failed()).toMatchObject({ level: 'warn', msg: expect.stringContaining('the live feed polls meanwhile') });
    expect(String(failed()?.error)).toContain('LIVE_LISTEN_HOST');
    expect(gateway.app.live.listener?.listening).toBe(false);
    expect(proxy.dropped).toBeGreaterThan(0);

    const http = await listen(gateway.app.gateway, 0, '127.0.0.1');
    try {
      expect(await firstBatchThenRow(new URL(http.url).origin, database, 101)).toEqual(['101']);
    } finally {
      await http.close();
    }
  });

  it('with LIVE_LISTEN_HOST the LISTEN connection uses the direct host and is live', async () => {
    const { logger, lines } = capturingLogger();
    const { database, url } = await pooledDatabase('listen_direct');
    const directUrl = new URL(database.url);
    const listenHost = `${directUrl.hostname}:${directUrl.port}`;
    gateway = await startTestGateway(
      'listen_direct_gw',
      { DATABASE_URL: url, LIVE_LISTEN_HOST: listenHost, LIVE_POLL_INTERVAL_MS: '100' },
      { logger },
    );
    await expect.poll(() => gateway?.app.live.listener?.listening, { timeout: 20_000 }).toBe(true);
    expect(lines.find((line) => line.msg === 'LISTEN connection host')).toMatchObject({
      host: `LIVE_LISTEN_HOST ${listenHost}`,
      direct: 'LIVE_LISTEN_HOST',
    });
    expect(lines.some((line) => String(line.error ?? '').includes('did not arrive'))).toBe(false);
  });

  it('rejects a malformed LIVE_LISTEN_HOST', () => {
    expect(() => loadConfig({ LIVE_LISTEN_HOST: 'http://x/y' })).toThrow(/LIVE_LISTEN_HOST/);
  });
});
