/**
 * Vitest global setup: one real PostgreSQL for the whole run. Either the one in
 * TEST_DATABASE_URL, or an embedded cluster in a temp dir on a free port.
 * Test files isolate themselves by creating their own database (see database.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return async () => {};
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-test-'));
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: false });
  project.provide('adminDatabaseUrl', embedded.connectionString);
  return async () => {
    await embedded.stop();
    // stop() removes the cluster's own folder, not the one made for it here: one empty folder a run piled up.
    await rm(dir, { recursive: true, force: true });
  };
}
