/**
 * Development only: `npm start` builds the dashboard when web/dist is missing
 * or older than its sources, so the README's two commands still give the page
 * at `/`. Production runs `npm run build` before starting (Databricks Apps
 * does), and never imports this module (it needs Vite, a devDependency).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';

async function newestMtime(entry: string): Promise<number> {
  const info = await stat(entry).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const child of await readdir(entry)) newest = Math.max(newest, await newestMtime(path.join(entry, child)));
  return newest;
}

/** Builds web/ into webDir when needed. Never throws: without a page the API still serves. */
export async function ensureWebBuild(webDir: string, logger: Logger): Promise<void> {
  const webRoot = path.dirname(webDir);
  const index = path.join(webDir, 'index.html');
  const built = existsSync(index) ? (await stat(index)).mtimeMs : 0;
  const sources = Math.max(
    await newestMtime(path.join(webRoot, 'src')),
    await newestMtime(path.join(webRoot, 'index.html')),
    await newestMtime(path.join(webRoot, 'vite.config.ts')),
  );
  if (built > 0 && built >= sources) return;
  logger.info(built === 0 ? 'building the dashboard (first start)…' : 'dashboard sources changed; rebuilding…', {
    webDir,
  });
  const started = Date.now();
  try {
    const { build } = await import('vite');
    await build({ configFile: path.join(webRoot, 'vite.config.ts'), logLevel: 'warn' });
    logger.info('dashboard built', { ms: Date.now() - started });
  } catch (error) {
    logger.warn('could not build the dashboard; / answers 503 until `npm run build` succeeds', {
      error: (error as Error).message,
    });
  }
}
