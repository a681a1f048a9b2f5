import { createHash } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { currentSignature, type SignatureTarget } from '../aggregates/rollup/signature.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { CachedSyncStatus } from '../sync/cached-sync-status.js';

/**
 * How the response cache knows an answer is still the table's answer:
 * - `exact`: the rollups' change signature (statement triggers on the synced
 *   table bump a counter in the writer's own transaction; rollup/signature.ts).
 *   A write is visible to the very next request, in every process.
 * - `source-version`: no trigger on the synced table (the gateway's role may
 *   not create one). Answers are keyed on the sync status' source commit
 *   version (plus the statistics signature when ROLLUP_FRESHNESS=statistics).
 *   Bounded staleness: a sync's rows can be served stale until the pipeline
 *   reports the new version and the gateway has read it (SYNC_STATUS_CACHE_SECONDS).
 * - `off`: neither is available (or RESPONSE_CACHE=off); nothing is cached.
 */
export type CacheMode = 'exact' | 'source-version' | 'off';

export interface TableVersion {
  mode: CacheMode;
  /** Short digest of the signal; equal tags prove equal table contents (in `exact` mode). Null in `off` mode. */
  tag: string | null;
}

export interface TableVersionOptions {
  db: Db;
  target: SignatureTarget;
  /** For `source-version` mode; null when no sync pipeline is configured. */
  syncStatus: CachedSyncStatus | null;
  logger: Logger;
}

const OFF: TableVersion = { mode: 'off', tag: null };

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/**
 * Reads the table's version for requests, one statement for many of them:
 * fresh() resolves with a read that *started after* it was called, so a write
 * committed before a request arrived is always seen (Postgres takes the
 * statement's snapshot when the statement starts). Reads never overlap: a
 * caller arriving while one is in flight waits for the next one, which every
 * caller arriving meanwhile shares. Under load that is one cheap statement
 * per round trip for any number of requests.
 *
 * Signatures never repeat (counters only grow, a recreated table has a new
 * oid), so two reads with equal tags prove no write committed between them:
 * that is how an answer is proven to belong to one table state (see
 * response-store.ts).
 */
export class TableVersionTracker {
  readonly #options: TableVersionOptions;
  readonly #query: CompiledQuery<{ signature: string | null }>;
  #inflight: Promise<TableVersion> | undefined;
  #next: Promise<TableVersion> | undefined;
  #latest: TableVersion = OFF;
  #reads = 0;
  #lastProblem: string | undefined;
  readonly #listeners = new Set<(version: TableVersion) => void>();

  constructor(options: TableVersionOptions) {
    this.#options = options;
    this.#query = CompiledQuery.raw(
      sql`SELECT ${currentSignature(options.target)} AS signature`.compile(options.db).sql,
    ) as CompiledQuery<{ signature: string | null }>;
  }

  /** The version of the most recent completed read (reads complete in the order they start). */
  get latest(): TableVersion {
    return this.#latest;
  }

  /** Version reads sent so far (each one statement). */
  get reads(): number {
    return this.#reads;
  }

  /** Called when a read finds a version different from the one before. */
  onChange(listener: (version: TableVersion) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The version as of a read that started after this call. Never rejects: a failed read is `off`. */
  fresh(): Promise<TableVersion> {
    if (this.#next) return this.#next;
    const inflight = this.#inflight;
    if (!inflight) return this.#start();
    const next = inflight.then(() => {
      this.#next = undefined;
      return this.#start();
    });
    this.#next = next;
    return next;
  }

  #start(): Promise<TableVersion> {
    const read = this.#read().then((version) => {
      if (this.#inflight === read) this.#inflight = undefined;
      const changed = version.tag !== this.#latest.tag || version.mode !== this.#latest.mode;
      this.#latest = version;
      if (changed) for (const listener of this.#listeners) listener(version);
      return version;
    });
    this.#inflight = read;
    return read;
  }

  async #read(): Promise<TableVersion> {
    this.#reads += 1;
    let signature: string | null = null;
    try {
      const { rows } = await this.#options.db.executeQuery(this.#query);
      signature = rows[0]?.signature ?? null;
    } catch (error) {
      // E.g. the gateway schema is not installed yet: serve uncached rather than fail the request.
      this.#report(`cannot read the synced table's change signature: ${(error as Error).message}`);
    }
    if (signature?.startsWith('trigger:')) return { mode: 'exact', tag: digest(signature) };
    const commit = await this.#sourceCommitVersion();
    if (commit === null) {
      this.#report('no change trigger on the synced table and no sync status to key on: responses are not cached');
      return OFF;
    }
    return { mode: 'source-version', tag: digest(`source:${commit}:${signature ?? ''}`) };
  }

  async #sourceCommitVersion(): Promise<string | null> {
    const status = this.#options.syncStatus;
    if (!status) return null;
    try {
      return (await status.get()).lastSync?.sourceCommitVersion ?? null;
    } catch {
      return null;
    }
  }

  /** Logged once per distinct problem, not once per request. */
  #report(problem: string): void {
    if (problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    this.#options.logger.warn('response cache degraded', { problem });
  }
}
