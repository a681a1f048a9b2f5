import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchema, type GraphQLSchema } from 'graphql';
import type { LimitsConfig } from '../config/env.js';

/** The gateway's own code: the folder above this one (src/ under tsx, dist/ when built). */
const CODE_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Beside it: the dependencies the code ran with. */
const LOCKFILE = path.join(CODE_DIR, '..', 'package-lock.json');

export interface AnswersIdentityInput {
  schema: GraphQLSchema;
  /** Page sizes and group caps: DEFAULT_PAGE_SIZE alone changes what `trips` answers. */
  limits: LimitsConfig;
  /** The synced table read. */
  table: { schema: string; table: string };
}

/**
 * What decides an answer besides the table's state and the caller: the gateway's code and dependencies, its
 * schema, and the settings that shape answers. Part of every response-cache key, so of every ETag: a browser or
 * CDN revalidating after a deploy or a changed setting got `304` for an answer that had changed (a page of 100
 * trips kept after DEFAULT_PAGE_SIZE became 5). Gateways of one deployment compute the same identity, so they
 * still share ETags.
 */
export function answersIdentity({ schema, limits, table }: AnswersIdentityInput): string {
  const hash = createHash('sha256');
  hash.update(printSchema(schema));
  hash.update(JSON.stringify({ limits, table }));
  for (const file of codeFiles(CODE_DIR)) {
    hash.update(path.relative(CODE_DIR, file));
    hash.update(readFileSync(file));
  }
  try {
    hash.update(readFileSync(LOCKFILE));
  } catch {
    // Not deployed with its lockfile: the code and the schema still count.
  }
  return hash.digest('base64url').slice(0, 10);
}

/** Every module under `dir`, in a fixed order. */
function codeFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...codeFiles(full));
    else if (/\.(?:[cm]?js|ts)$/.test(entry.name) && !entry.name.endsWith('.map')) files.push(full);
  }
  return files;
}
