import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { hostileRequests } from './support/hostile-requests.js';

interface Memory {
  heapUsed: number;
  rss: number;
}

const MB = 1024 * 1024;
/** The parse cache's memory budget in the child: the heap may grow by this much, by design. */
const CACHE_BUDGET_MB = 8;

/**
 * The memory attacks of issue 14 against a gateway in its own process: after
 * hundreds of distinct large documents (each cacheable: valid, within every
 * limit) and rounds of every hostile request, its heap after a full GC is back
 * near where it started. Before the caches were bounded in bytes, every distinct
 * document stayed in yoga's parse/validation cache and the compiled-execution
 * cache. The bounds are generous: this catches leaks of tens of megabytes and
 * more, not noise.
 */
describe('memory under hostile load', () => {
  let database: TestDatabase;
  let child: ChildProcess;
  let origin: string;
  const replies: ((message: unknown) => void)[] = [];

  const memory = () =>
    new Promise<Memory>((resolve) => {
      replies.push(resolve as (message: unknown) => void);
      child.send('memory');
    });

  beforeAll(async () => {
    database = await createTestDatabase('edge_memory');
    child = fork(fileURLToPath(new URL('./support/gateway-child.ts', import.meta.url)), [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        ACCESS_LOG: 'false',
        DOCUMENT_CACHE_BYTES: String(CACHE_BUDGET_MB * MB),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    origin = await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`gateway child exited with ${code}`)));
      child.once('message', (message) => resolve((message as { origin: string }).origin));
    });
    child.on('message', (message) => replies.shift()?.(message));
  });
  afterAll(async () => {
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
    await database.drop();
  });

  const post = (query: string) =>
    fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    }).then((response) => response.text());

  /** A valid document of 200 aliases with long names (~50 KB): distinct per n, so each would be cached. */
  const bigDocument = (n: number | string) =>
    `{ ${Array.from({ length: 200 }, (_, i) => `a${n}_${i}_${'x'.repeat(230)}: __typename`).join(' ')} }`;

  async function hostileRound(): Promise<void> {
    for (const request of hostileRequests()) {
      const response = await fetch(`${origin}${request.path ?? '/graphql'}`, {
        method: request.method ?? 'GET',
        headers: request.headers,
        body: request.body,
      });
      expect(response.status).toBeLessThan(500);
      await response.arrayBuffer();
    }
  }

  it('returns to its baseline after distinct large documents and hostile rounds', async () => {
    // Warm up every code path once, so that the baseline includes compiled code and lazy modules.
    await hostileRound();
    for (let n = 0; n < 20; n += 1) expect(await post(bigDocument(`w${n}`))).toContain('"data"');
    const before = await memory();

    for (let n = 0; n < 300; n += 1) expect(await post(bigDocument(n))).toContain('"data"');
    for (let round = 0; round < 3; round += 1) await hostileRound();
    const after = await memory();

    // Still serving.
    expect(await post('{ trips { totalCount } }')).toBe('{"data":{"trips":{"totalCount":"0"}}}');
    const heapGrowth = (after.heapUsed - before.heapUsed) / MB;
    const rssGrowth = (after.rss - before.rss) / MB;
    console.info(
      `edge-memory: heap ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB, ` +
        `rss ${(before.rss / MB).toFixed(1)} → ${(after.rss / MB).toFixed(1)} MB`,
    );
    // 300 documents of 50 KB are 15 MB of source: with the caches bounded by entry count (yoga's default, 1,000)
    // all of it stayed parsed, and graphql-jit kept ~100 KB per distinct document compiled even with no cache
    // (+30 MB here); now at most the cache budget stays.
    expect(heapGrowth).toBeLessThan(CACHE_BUDGET_MB + 24);
    expect(rssGrowth).toBeLessThan(200);
  });
});
