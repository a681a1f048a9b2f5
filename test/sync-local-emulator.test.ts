/**
 * The same status cache and mapping over the local pipeline emulation: the
 * emulator's Databricks-shaped status maps without UNKNOWN states, and a
 * refresh through CachedSyncStatus advances the reported source version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { randomTrips, seededRandom } from '../src/dev/pipeline/random-trips.js';
import { insertNewTrips } from '../src/dev/pipeline/source-writes.js';
import { CachedSyncStatus } from '../src/sync/cached-sync-status.js';
import type { TestDatabase } from './support/database.js';
import { createPipelineTestDatabase, headVersion, seedRandomTrips } from './support/pipeline.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createPipelineTestDatabase('sync_local');
});
afterAll(() => db.drop());

describe('CachedSyncStatus over the local emulator', () => {
  it('reports the emulated pipeline and follows a refresh', async () => {
    const random = seededRandom(7);
    const names = await seedRandomTrips(db.pool, 'cached', { policy: 'TRIGGERED', count: 50, random });
    const source = new LocalSyncSource(db.pool, { names });
    const warnings: string[] = [];
    const status = new CachedSyncStatus(source, {
      ttlSeconds: 0,
      pollIntervalMs: 3_600_000,
      logger: { warn: (message) => warnings.push(message) },
    });

    const before = await status.get();
    expect(before).toMatchObject({ state: 'ONLINE_NO_PENDING_UPDATE', schedulingPolicy: 'TRIGGERED' });
    expect(before.lastSync?.sourceCommitVersion).toBe(String(await headVersion(db.pool, names)));
    expect(before.stalenessSeconds).toBeGreaterThanOrEqual(0);

    const changes = status.subscribe();
    await changes.next();
    await insertNewTrips(db.pool, names, 5, (first, count) => randomTrips(first, count, { random }));
    const refresh = await status.refresh({ fullRefresh: false });
    expect(refresh.updateId).toEqual(expect.any(String));
    await source.settled();

    const head = await headVersion(db.pool, names);
    // The first call may join the poll refresh() started before the update ran; the second reads afresh.
    await status.poll();
    await status.poll();
    const changed = await changes.next();
    expect(changed.value).toMatchObject({
      state: 'ONLINE_NO_PENDING_UPDATE',
      lastSync: { sourceCommitVersion: String(head) },
    });
    await changes.return?.();
    expect(warnings).toEqual([]);
  });
});
