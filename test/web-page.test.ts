/**
 * The dashboard's files and GraphiQL as the gateway serves them (through
 * yoga.fetch): cache headers, compression, revalidation, the page missing,
 * and GraphiQL's code from this process rather than a CDN.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_PREFIX } from '../src/server/web-page.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const SCRIPT = `console.log(${JSON.stringify('trips '.repeat(2000))});\n`;
let dir: string;
let gateway: TestGateway;
let unbuilt: TestGateway;

const get = (gw: TestGateway, url: string, headers: Record<string, string> = {}) =>
  gw.app.gateway.fetch(`http://gateway.test${url}`, { headers });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-web-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(path.join(dir, 'index.html'), '<!doctype html><script src="/assets/index-AbC123.js"></script>');
  await writeFile(path.join(dir, 'assets', 'index-AbC123.js'), SCRIPT);
  gateway = await startTestGateway('web_page', {}, { webDir: dir });
  unbuilt = await startTestGateway('web_page_unbuilt', {}, { webDir: path.join(dir, 'missing') });
});

afterAll(async () => {
  await gateway.close();
  await unbuilt.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the dashboard files', () => {
  it('serves index.html at / for revalidation on every load, answering 304 when unchanged', async () => {
    const response = await get(gateway, '/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(await response.text()).toContain('/assets/index-AbC123.js');
    // No other site may frame it (a decoy over "Sync now"): src/server/plugins/security-headers.ts.
    expect(response.headers.get('content-security-policy')).toBe("frame-ancestors 'self'");
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const etag = response.headers.get('etag')!;
    const again = await get(gateway, '/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
  });

  it('caches hashed assets for a year and compresses them as the browser accepts', async () => {
    const brotli = await get(gateway, '/assets/index-AbC123.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(brotli.status).toBe(200);
    expect(brotli.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(brotli.headers.get('content-encoding')).toBe('br');
    expect(brotli.headers.get('vary')).toBe('accept-encoding');
    const compressed = Buffer.from(await brotli.arrayBuffer());
    expect(compressed.length).toBeLessThan(SCRIPT.length / 10);
    expect(brotliDecompressSync(compressed).toString()).toBe(SCRIPT);

    const gzip = await get(gateway, '/assets/index-AbC123.js', { 'accept-encoding': 'gzip' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gzip.arrayBuffer())).toString()).toBe(SCRIPT);

    const plain = await get(gateway, '/assets/index-AbC123.js', { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(SCRIPT);
  });

  it('answers 404 for a missing asset and never serves files outside the build', async () => {
    expect((await get(gateway, '/assets/nope-123.js')).status).toBe(404);
    const escaped = await get(gateway, '/assets/%2e%2e/%2e%2e/package.json');
    expect(escaped.status).not.toBe(200);
  });

  it('keeps no trace of a miss: an asset written after a 404 (a rebuild while running) is served', async () => {
    // A miss used to stay cached: a client asking for invented names grew the process without bound.
    expect((await get(gateway, '/assets/late-Zz9.js')).status).toBe(404);
    await writeFile(path.join(dir, 'assets', 'late-Zz9.js'), 'console.log("late");\n');
    const late = await get(gateway, '/assets/late-Zz9.js', { 'accept-encoding': 'identity' });
    expect(late.status).toBe(200);
    expect(await late.text()).toBe('console.log("late");\n');
  });

  it('says how to build the page when it is not built, and the API still answers', async () => {
    const response = await get(unbuilt, '/');
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build');
    const { body } = await unbuilt.query('{ viewer { canRefresh } }');
    expect(body).toEqual({ data: { viewer: { canRefresh: false } } });
  });
});

describe('GraphiQL', () => {
  it('is a small page loading its code from this gateway, opening on the example query', async () => {
    const response = await get(gateway, '/graphql', { accept: 'text/html' });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html.length).toBeLessThan(10_000);
    expect(html).not.toMatch(/unpkg|jsdelivr|cdn\./i);
    expect(html).toContain(`${GRAPHIQL_PREFIX}graphiql.js`);
    expect(html).toContain('query LatestTrips');
    expect(html).toContain('subscription NewTrips');

    for (const file of ['graphiql.js', 'graphiql.css', 'graphql.worker.js']) {
      const asset = await get(gateway, `${GRAPHIQL_PREFIX}${file}`, { 'accept-encoding': 'br' });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('content-encoding')).toBe('br');
    }
    const js = await get(gateway, `${GRAPHIQL_PREFIX}graphiql.js`);
    expect(await js.text()).toContain('YogaGraphiQL');
  });

  it('is not served with GRAPHIQL=false: neither its page nor its files, while the dashboard still is', async () => {
    const off = await startTestGateway('web_page_no_graphiql', { GRAPHIQL: 'false' }, { webDir: dir });
    try {
      const page = await (await get(off, '/graphql', { accept: 'text/html' })).text();
      expect(page).not.toContain(GRAPHIQL_PREFIX);
      expect(page).not.toMatch(/<html/i);
      for (const file of ['graphiql.js', 'graphiql.css', 'editor.worker.js', 'json.worker.js', 'graphql.worker.js']) {
        const asset = await get(off, `${GRAPHIQL_PREFIX}${file}`, { 'accept-encoding': 'br' });
        expect(asset.status, file).toBe(404);
        expect(await asset.text(), file).not.toContain('YogaGraphiQL');
      }
      expect((await get(off, '/')).status).toBe(200);
      expect((await get(off, '/assets/index-AbC123.js')).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});

describe("the dashboard's persisted operations", () => {
  it('run by their generated id on a gateway that accepts persisted operations only', async () => {
    const manifest = JSON.parse(
      readFileSync(new URL('../web/src/gql/persisted-documents.json', import.meta.url), 'utf8'),
    ) as Record<string, string>;
    const [id] = Object.entries(manifest).find(([, document]) => document.includes('query TripsPage')) ?? [];
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const only = await startTestGateway('web_page_persisted', { PERSISTED_OPERATIONS: 'only' });
    try {
      const response = await only.app.gateway.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ documentId: id, variables: { first: 5 } }),
      });
      const body = (await response.json()) as { data?: { trips: { totalCount: string } }; errors?: unknown[] };
      expect(body.errors).toBeUndefined();
      expect(body.data?.trips.totalCount).toBe('0');
    } finally {
      await only.close();
    }
  });
});
