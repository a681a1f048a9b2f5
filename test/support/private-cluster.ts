/**
 * A database on a Postgres cluster of its own, for tests that wait on something cluster-wide: the xmin horizon
 * (below which the change record's retention prunes) is held back by any open write transaction on the cluster,
 * and on the shared test cluster that may be another test file's for as long as that file likes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';
import { openNewDatabase, type TestDatabase } from './database.js';

export async function createPrivateTestDatabase(label: string): Promise<TestDatabase> {
  const folder = await mkdtemp(path.join(os.tmpdir(), `lakebase-graphql-${label}-`));
  const cluster = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), persistent: false });
  const name = label.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const opened = await openNewDatabase(cluster.connectionString, name).catch(async (error: unknown) => {
    await cluster.stop();
    await rm(folder, { recursive: true, force: true });
    throw error;
  });
  return {
    ...opened,
    name,
    async drop() {
      await opened.pool.end();
      await cluster.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
