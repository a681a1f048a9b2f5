/**
 * Development only: `npm start` (and the browser tests) build the dashboard
 * when web/dist is missing or was built from other sources than those checked
 * out, so the README's two commands still give the page at `/` and a test
 * never drives an old build. Production runs `npm run build` before starting
 * (Databricks Apps does), and never imports this module (it needs Vite, a
 * devDependency).
 *
 * "Other sources" is decided by content, not by modification times: a build
 * newer than its sources can still be stale (a checkout or merge that brings
 * older files, a build that failed and left the previous one in place, a
 * dependency upgraded under an unchanged web/src), and a test run against such
 * a build tests code that is not there any more.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';

/** Written into the build after it succeeds: the fingerprint of the sources it was built from. */
export const FINGERPRINT_FILE = '.sources-fingerprint';

/** Every file below entry (itself if a file), as paths relative to base, sorted; none if it does not exist. */
async function filesBelow(entry: string, base: string): Promise<string[]> {
  const children = await readdir(entry, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTDIR') return null;
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (children === null) return [path.relative(base, entry)];
  const nested = await Promise.all(
    children.map((child) =>
      child.isDirectory()
        ? filesBelow(path.join(entry, child.name), base)
        : Promise.resolve([path.relative(base, path.join(entry, child.name))]),
    ),
  );
  return nested.flat().sort();
}

/**
 * What the build is made from: web/src, web/index.html, the Vite config, and the
 * repository's package-lock.json (the versions of React, ag-grid, graphql-sse… it bundles).
 */
/** Bumped whenever the build call below changes. */
const BUILD_RECIPE = 'vite build with NODE_ENV=production\0';

export async function webSourcesFingerprint(webRoot: string): Promise<string> {
  const root = path.dirname(webRoot);
  const inputs = [
    path.join(webRoot, 'src'),
    path.join(webRoot, 'index.html'),
    path.join(webRoot, 'vite.config.ts'),
    path.join(root, 'package-lock.json'),
  ];
  // How the build is made is an input too: a build made another way (before production mode was forced) is stale.
  const hash = createHash('sha256').update(BUILD_RECIPE);
  for (const input of inputs) {
    for (const file of await filesBelow(input, root)) {
      const body = await readFile(path.join(root, file));
      hash.update(`${file.split(path.sep).join('/')}\0${body.length}\0`).update(body);
    }
  }
  return hash.digest('hex');
}

export interface WebBuildOptions {
  /** Throw when the build fails (tests), instead of warning and serving what is there (`npm start`). */
  required?: boolean;
}

/** Builds web/ into webDir unless it already holds the build of the current sources. */
export async function ensureWebBuild(
  webDir: string,
  logger: Logger,
  { required = false }: WebBuildOptions = {},
): Promise<'current' | 'built' | 'failed'> {
  const webRoot = path.dirname(webDir);
  const fingerprint = await webSourcesFingerprint(webRoot);
  const built = await readFile(path.join(webDir, FINGERPRINT_FILE), 'utf8').catch(() => null);
  const hasIndex = await readFile(path.join(webDir, 'index.html')).then(
    () => true,
    () => false,
  );
  if (hasIndex && built?.trim() === fingerprint) return 'current';
  logger.info(hasIndex ? 'the dashboard build is not of the current sources; rebuilding…' : 'building the dashboard…', {
    webDir,
  });
  const started = Date.now();
  try {
    const { build } = await import('vite');
    // Always the production bundle: under vitest NODE_ENV is "test", and Vite then bundles React's
    // development build (200 KB more, slower to run), which a later `npm start` would go on serving.
    // Vite and its React plugin read NODE_ENV itself (a `define` alone mixes the production React with
    // the development JSX runtime), so it is set for the build and put back after.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ configFile: path.join(webRoot, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    // The fingerprint of the sources as they were when the build started: an edit during the build
    // leaves a mismatch, so the next start builds again.
    await writeFile(path.join(webDir, FINGERPRINT_FILE), `${fingerprint}\n`);
    logger.info('dashboard built', { ms: Date.now() - started });
    return 'built';
  } catch (error) {
    if (required) throw new Error(`could not build the dashboard: ${(error as Error).message}`, { cause: error });
    logger.warn('could not build the dashboard; / answers 503 (or an older build) until `npm run build` succeeds', {
      error: (error as Error).message,
    });
    return 'failed';
  }
}
