import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildIdentity {
  /** package.json's version (it changes rarely: the build tells deploys apart). */
  version: string;
  /** A digest of the code this process loaded: equal on every instance of one deploy, two during a rolling one. */
  build: string;
}

/** src/ when run through tsx, dist/ in production: the tree this file was loaded from. */
const CODE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let cached: BuildIdentity | undefined;

/**
 * Which code runs, for the startup log and /health. An upgrade logged like any restart, and in a mixed deploy no
 * instance said which version it ran. A bundle deploy carries no `.git`, so the identity is computed from the
 * code itself: every .ts/.js file under the code's tree, by relative path and content (a few ms, once).
 */
export function buildIdentity(codeDir: string = CODE_DIR): BuildIdentity {
  if (codeDir === CODE_DIR && cached) return cached;
  const hash = createHash('sha256');
  for (const file of codeFiles(codeDir)) {
    hash.update(path.relative(codeDir, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  const identity = { version: packageVersion(codeDir), build: hash.digest('hex').slice(0, 12) };
  if (codeDir === CODE_DIR) cached = identity;
  return identity;
}

function codeFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...codeFiles(full));
    else if (/\.(ts|js|mjs|cjs)$/.test(entry.name)) files.push(full);
  }
  return files.sort();
}

function packageVersion(codeDir: string): string {
  try {
    const manifest = JSON.parse(readFileSync(path.join(codeDir, '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
