/**
 * When `npm start` and the browser tests rebuild the dashboard: exactly when
 * web/dist is not the build of the current sources, judged by content. A
 * build that is newer than its sources on disk but was made from other
 * sources is stale, and a test against it would test code that is gone.
 */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureWebBuild, FINGERPRINT_FILE, webSourcesFingerprint } from '../src/dev/web-build.js';
import { silentLogger } from '../src/logger.js';

let root: string;
let web: string;
let dist: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'web-build-'));
  web = path.join(root, 'web');
  dist = path.join(web, 'dist');
  await mkdir(path.join(web, 'src', 'live'), { recursive: true });
  await writeFile(path.join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
  await writeFile(path.join(web, 'index.html'), '<!doctype html>\n');
  await writeFile(path.join(web, 'src', 'main.tsx'), 'export {};\n');
  await writeFile(path.join(web, 'src', 'live', 'trip-changes.ts'), 'export const version = 1;\n');
  // No vite.config.ts: a build attempted here fails, which is how these tests see one was attempted.
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeBuild(fingerprint: string | null): Promise<void> {
  await mkdir(dist, { recursive: true });
  await writeFile(path.join(dist, 'index.html'), '<!doctype html><p>built</p>\n');
  if (fingerprint !== null) await writeFile(path.join(dist, FINGERPRINT_FILE), `${fingerprint}\n`);
  // Newer than every source: a modification-time check would call this build current.
  const future = new Date(Date.now() + 3_600_000);
  await utimes(path.join(dist, 'index.html'), future, future);
}

describe('the dashboard sources fingerprint', () => {
  it('changes with any file of web/src, index.html or the lock file, and only with content', async () => {
    const first = await webSourcesFingerprint(web);
    expect(await webSourcesFingerprint(web)).toBe(first);
    const source = path.join(web, 'src', 'live', 'trip-changes.ts');
    // Touched, same content: same fingerprint.
    await utimes(source, new Date(), new Date(Date.now() + 60_000));
    expect(await webSourcesFingerprint(web)).toBe(first);

    await writeFile(source, 'export const version = 2;\n');
    const edited = await webSourcesFingerprint(web);
    expect(edited).not.toBe(first);
    await writeFile(path.join(web, 'src', 'new-file.ts'), 'export {};\n');
    const added = await webSourcesFingerprint(web);
    expect(added).not.toBe(edited);
    await writeFile(path.join(root, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
    const upgraded = await webSourcesFingerprint(web);
    expect(upgraded).not.toBe(added);
    await writeFile(path.join(web, 'index.html'), '<!doctype html><title>x</title>\n');
    expect(await webSourcesFingerprint(web)).not.toBe(upgraded);
  });

  it('tells a file moved to another folder apart', async () => {
    const before = await webSourcesFingerprint(web);
    await rm(path.join(web, 'src', 'live', 'trip-changes.ts'));
    await writeFile(path.join(web, 'src', 'trip-changes.ts'), 'export const version = 1;\n');
    expect(await webSourcesFingerprint(web)).not.toBe(before);
  });
});

describe('ensureWebBuild', () => {
  it('keeps a build made from exactly the current sources', async () => {
    await writeBuild(await webSourcesFingerprint(web));
    expect(await ensureWebBuild(dist, silentLogger, { required: true })).toBe('current');
  });

  it('rebuilds a build of other sources even when it is newer than them, and a test run fails if that fails', async () => {
    const old = await webSourcesFingerprint(web);
    await writeFile(path.join(web, 'src', 'live', 'trip-changes.ts'), 'export const version = 2;\n');
    await writeBuild(old);
    await expect(ensureWebBuild(dist, silentLogger, { required: true })).rejects.toThrow(
      /could not build the dashboard/,
    );
    // `npm start` goes on without the page instead (the API still serves), and says so.
    expect(await ensureWebBuild(dist, silentLogger)).toBe('failed');
  });

  it('rebuilds a build that carries no fingerprint (made by an older version, or by hand)', async () => {
    await writeBuild(null);
    await expect(ensureWebBuild(dist, silentLogger, { required: true })).rejects.toThrow(
      /could not build the dashboard/,
    );
  });
});
