import { createHash } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import type pg from 'pg';
import { currentSignature, type SignatureTarget } from '../aggregates/rollup/signature.js';
import { currentCursorGeneration } from './cursor-generation.js';
import { destroySocket } from '../db/cancellable-driver.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { CachedSyncStatus } from '../sync/cached-sync-status.js';
import { TimedOut, withTimeout } from '../with-timeout.js';

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
  /**
   * Opens a connection of the tracker's own. Reads go there rather than through the pool: they are
   * serialized, and one waiting in the pool's queue behind slow pages would hold up every request, hit or
   * miss, behind it. Without it (tests), reads use `db`.
   */
  connect?: () => Promise<pg.Client>;
  /** The own connection is replaced after this long (no session outlives a Lakebase OAuth token). */
  maxConnectionLifetimeMs?: number;
}

const OFF: TableVersion = { mode: 'off', tag: null };

/** The version read's row: the table's change signature, and the capture's last recapture (cursor-generation.ts). */
interface VersionRow {
  signature: string | null;
  cursors: string | null;
}

const NO_VERSION: VersionRow = { signature: null, cursors: null };

/**
 * How long a request waits for the sync status in `source-version` mode (a workspace API call every
 * SYNC_STATUS_CACHE_SECONDS) before it is served uncached. Without it, a hung or throttled API (the SDK retries a
 * 429 for up to a minute) held every query, even an invalid one, for as long.
 */
const SOURCE_VERSION_WAIT_MS = 1_000;

/** How long connecting and reading the change signature may take before requests are served uncached. */
const SIGNATURE_DEADLINE_MS = 3_000;

class SignatureStalled extends Error {
  constructor() {
    super(`the database did not answer within ${SIGNATURE_DEADLINE_MS} ms`);
  }
}

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
  readonly #query: CompiledQuery<VersionRow>;
  #inflight: Promise<TableVersion> | undefined;
  #next: Promise<TableVersion> | undefined;
  #latest: TableVersion = OFF;
  #reads = 0;
  #lastProblem: string | undefined;
  readonly #listeners = new Set<(version: TableVersion) => void>();
  #client: { connection: Promise<pg.Client>; since: number } | undefined;
  #closed = false;

  constructor(options: TableVersionOptions) {
    this.#options = options;
    this.#query = CompiledQuery.raw(
      sql`SELECT ${currentSignature(options.target)} AS signature,
                 ${currentCursorGeneration(options.target)} AS cursors`.compile(options.db).sql,
    ) as CompiledQuery<VersionRow>;
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
    let signature: string | null;
    let cursors: string | null;
    try {
      ({ signature, cursors } = await this.#signature());
    } catch (error) {
      // E.g. the gateway schema is not installed yet, or the connection is gone. Whether a write committed is
      // unknown, so no entry can be proven current: serve uncached rather than fail the request. Not keyed on
      // the source version either: its staleness is the price of a table without a trigger, not of a failed read.
      this.#report(`cannot read the synced table's change signature: ${(error as Error).message}`);
      return OFF;
    }
    // The capture's last recapture too (cursor-generation.ts): answers may carry a stream cursor it refuses.
    const generation = cursors === null ? '' : `|cursors:${cursors}`;
    if (signature?.startsWith('trigger:')) {
      this.#recovered('exact');
      return { mode: 'exact', tag: digest(`${signature}${generation}`) };
    }
    const source = await this.#sourceCommitVersion();
    if ('problem' in source) {
      this.#report(`no change trigger on the synced table, and ${source.problem}: responses are not cached`);
      return OFF;
    }
    this.#recovered('source-version');
    return { mode: 'source-version', tag: digest(`source:${source.commit}:${signature ?? ''}${generation}`) };
  }

  async #signature(retried = false): Promise<VersionRow> {
    if (!this.#options.connect || this.#closed) {
      const { rows } = await this.#options.db.executeQuery(this.#query);
      return rows[0] ?? NO_VERSION;
    }
    const lifetime = this.#options.maxConnectionLifetimeMs ?? Number.POSITIVE_INFINITY;
    if (this.#client && Date.now() - this.#client.since > lifetime) this.#dropConnection();
    this.#client ??= { connection: this.#connect(this.#options.connect), since: Date.now() };
    const own = this.#client;
    let connected = false;
    // Every request that may be answered from the cache waits for this read: a server that answers nothing
    // (a hung proxy, a frozen compute) held them all for as long as it lasted. Connecting and reading one row
    // get a few seconds; then the connection is dropped and requests are served uncached meanwhile.
    let stall: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      stall = setTimeout(() => reject(new SignatureStalled()), SIGNATURE_DEADLINE_MS);
    });
    try {
      const client = await Promise.race([own.connection, deadline]);
      connected = true;
      // Prepared once per connection: the same text every time.
      const { rows } = await Promise.race([
        client.query<VersionRow>({ name: 'lakebase_graphql_table_version', text: this.#query.sql }),
        deadline,
      ]);
      return rows[0] ?? NO_VERSION;
    } catch (error) {
      if (this.#client === own) this.#dropConnection();
      // A connection the server closed while it sat idle (a scale-to-zero compute suspending, a restart, a
      // recycled backend) fails its next read: once on a new connection, before serving this request uncached.
      if (connected && !retried && !(error instanceof SignatureStalled)) return this.#signature(true);
      throw error;
    } finally {
      clearTimeout(stall);
    }
  }

  async #connect(connect: () => Promise<pg.Client>): Promise<pg.Client> {
    const client = await connect();
    // A broken connection fails its next read, which drops it; nothing to do here but not crash.
    client.on('error', () => {});
    return client;
  }

  #dropConnection(): void {
    const dropped = this.#client;
    this.#client = undefined;
    // Destroyed, not ended: ending waits for a server that may answer nothing.
    void dropped?.connection.then((client) => destroySocket(client)).catch(() => {});
  }

  /** Closes the tracker's own connection; later reads use `db`. */
  async close(): Promise<void> {
    this.#closed = true;
    const dropped = this.#client;
    this.#client = undefined;
    await dropped?.connection.then((client) => client.end()).catch(() => {});
  }

  /** The sync status' source commit version, or why there is none to key on (each says what to fix). */
  async #sourceCommitVersion(): Promise<{ commit: string } | { problem: string }> {
    const status = this.#options.syncStatus;
    if (!status) return { problem: 'no sync status to key on (no Databricks sync pipeline configured)' };
    try {
      const commit = (await withTimeout(status.get(), SOURCE_VERSION_WAIT_MS)).lastSync?.sourceCommitVersion;
      return commit ? { commit } : { problem: 'the sync status reports no synced source version yet' };
    } catch (error) {
      if (error instanceof TimedOut) {
        return { problem: `the sync status (the workspace API) did not answer within ${SOURCE_VERSION_WAIT_MS} ms` };
      }
      return { problem: `the sync status cannot be read (${(error as Error).message})` };
    }
  }

  /** Logged once per distinct problem, not once per request. */
  #report(problem: string): void {
    if (problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    this.#options.logger.warn('response cache degraded', { problem });
  }

  /** After a problem, says once that answers are cached again (the next problem is then logged again). */
  #recovered(mode: CacheMode): void {
    if (this.#lastProblem === undefined) return;
    this.#lastProblem = undefined;
    this.#options.logger.info('response cache caching again', { mode });
  }
}
