import { GraphQLError } from 'graphql';
import { sql, type CompiledQuery, type SqlBool } from 'kysely';
import { StatementCancelledError } from '../../db/cancellable-driver.js';
import type { Db } from '../../db/database.js';
import { INSUFFICIENT_PRIVILEGE, sqlState } from '../../db/sql-state.js';
import { qualified } from '../../db/sql-identifiers.js';
import { installGatewaySchema, type SchemaStep } from '../../db/gateway-schema/installer.js';
import type { Logger } from '../../logger.js';
import { RAW, type AggregateSource, type Sourced, type StatementProof } from '../queries.js';
import { hasWholeHourOffsets, pickupBinFor, WHOLE_HOUR_SPAN, type PickupBin } from '../time-zones.js';
import { analyzeRollup, buildRollup, type BuildOutcome } from './build.js';
import { hasChangeTrigger, installChangeTrigger } from './change-trigger.js';
import { chooseGrain, type RollupNeeds } from './planner.js';
import { rollupSchemaSteps } from './rollup-table.js';
import { changeState, currentSignature, type Freshness, type SignatureTarget } from './signature.js';
import { describeError } from '../../errors.js';
import { RepeatedWarning } from '../../observability/repeated-warning.js';

export interface RollupOptions {
  enabled: boolean;
  /** How often the maintainer compares the table's signature with the rollup's; 0 = only on refresh(). */
  pollMs: number;
  /** How freshness is proven (see signature.ts); `trigger` installs the change trigger on the synced table. */
  freshness: Freshness;
}

interface StateRow {
  signature: string;
  grain_rows: Record<string, number>;
  min_hour: Date | null;
  max_hour: Date | null;
}

/** The rollup as of a freshness check that proved it matches the synced table. */
export interface FreshRollup {
  signature: string;
  grainRows: Readonly<Record<string, number>>;
  minHour: Date | null;
  maxHour: Date | null;
}

export interface RollupServiceDeps {
  /** The gateway's query Db: freshness checks are part of serving a request and are counted. */
  db: Db;
  /** An uncounted Db for background work (builds, time zone checks). */
  maintenanceDb: Db;
  schema: string;
  table: string;
  gatewaySchema: string;
  /** Where the change trigger announces writes (the live feed's LISTEN channel); null: nowhere, polling only. */
  notifyChannel: string | null;
  logger: Logger;
  options: RollupOptions;
  /** While paused (db/database-activity.ts) the maintainer sends nothing; requests still check freshness themselves. */
  activity?: { readonly paused: boolean };
}

/** Notifications arrive per statement; a sync of many statements is one check. */
const WAKE_DEBOUNCE_MS = 100;

/**
 * Keeps the rollup in step with the synced table and decides, per query,
 * whether a proven-fresh rollup grain can answer it. It never waits for a
 * rebuild: a query that finds the rollup stale goes to the raw table.
 */
/** See RollupService.#serviceId. */
let nextServiceId = 0;

export class RollupService {
  readonly #deps: RollupServiceDeps;
  #timer: NodeJS.Timeout | undefined;
  #wakeTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #building: Promise<BuildOutcome> | undefined;
  /**
   * A check in flight. The poll and the wake-up after a notification each start one; overlapping, two read the
   * same signature a few milliseconds apart and took that for a table holding still, so a backfill under CPU
   * load got a full rebuild per bunching of the two timers. A wake-up that finds one running comes back after it.
   */
  #checking = false;
  #wakeAfterCheck = false;
  /** Signature seen at the previous poll: a rebuild waits until the table has stopped changing for one interval. */
  #lastSeen: string | null = null;
  /** When #lastSeen was first seen (Date.now()): a full rebuild waits until the signature held still one interval. */
  #lastSeenAt = 0;
  /**
   * The last insert-only change could not be appended (its ids were below the rollup's highest: a backfill, late
   * trips, a pipeline writing out of key order) and took a full build. Until an append works again, insert-only
   * changes wait for the table to hold still like any other: each one rebuilt everything at once before.
   */
  #insertsNeedFullBuild = false;
  #installed = false;
  /** The last trigger installation failure logged, so a missing privilege is reported once, not every poll. */
  #triggerProblem: string | null = null;
  /** Passing failures (the database or the credential API away), said once per few minutes while they last. */
  readonly #triggerUnchecked: RepeatedWarning;
  readonly #maintenanceFailed: RepeatedWarning;
  /** Aggregate queries answered per source since start: how much the rollup is earning its keep. */
  readonly served = { raw: 0, rollup: 0 };
  /** Rollup builds since start, by kind, and failed ones (metrics). */
  readonly builds: Record<string, number> = { failed: 0 };
  #freshnessCheck: CompiledQuery<StateRow> | undefined;
  /** What the last freshness check found (see #speculate). */
  #lastFresh: FreshRollup | null = null;
  /** The proof of the last speculated signature (#proofOf). */
  #proof: { signature: string; proof: StatementProof } | undefined;
  /** Tells this service's proofs from another's in the statement memo (another target, same Db). */
  readonly #serviceId = (nextServiceId += 1);

  constructor(deps: RollupServiceDeps) {
    this.#deps = deps;
    this.#triggerUnchecked = new RepeatedWarning(
      deps.logger,
      'rollups unused until the next check: could not check or install their change trigger; aggregates use the synced table',
    );
    this.#maintenanceFailed = new RepeatedWarning(deps.logger, 'rollup maintenance failed; queries use the raw table');
  }

  get enabled(): boolean {
    return this.#deps.options.enabled;
  }

  get #target(): SignatureTarget {
    const { schema, table, gatewaySchema, options } = this.#deps;
    return { schema, table, gatewaySchema, freshness: options.freshness };
  }

  /** The synced table and how its signature is computed (the response cache reads the same signature). */
  get signatureTarget(): SignatureTarget {
    return this.#target;
  }

  /**
   * What the rollup owns in the gateway schema, for the gateway schema installer: none when
   * rollups are off, unless the response cache needs the change signal (counters, ZIP trigger,
   * signature function) anyway.
   */
  schemaSteps({ changeSignal = false }: { changeSignal?: boolean } = {}): SchemaStep<void>[] {
    return this.enabled || changeSignal ? rollupSchemaSteps(this.#target, this.#deps.notifyChannel) : [];
  }

  /**
   * Installs the rollup's part of the gateway schema (unless the caller has
   * just installed schemaSteps() with the rest of it), then the change
   * trigger on the synced table.
   */
  async install(options: { schemaInstalled?: boolean } = {}): Promise<void> {
    if (!this.enabled) return;
    await this.installChangeSignal(options);
  }

  /**
   * The change counters, the trigger and the signature function, without
   * building anything: install() does this, and the response cache needs it
   * even with ROLLUPS=off. With rollups off nobody re-installs the trigger
   * after a refresh that recreates the table; the signature is then NULL and
   * the cache stops serving (never stale, just unused) until the next start.
   */
  async installChangeSignal({ schemaInstalled = false }: { schemaInstalled?: boolean } = {}): Promise<void> {
    if (!schemaInstalled) {
      await installGatewaySchema(
        this.#deps.maintenanceDb,
        this.#deps.gatewaySchema,
        rollupSchemaSteps(this.#target, this.#deps.notifyChannel),
        this.#deps.logger,
      );
    }
    this.#installed = true;
    await this.#ensureChangeTrigger();
  }

  /**
   * Trigger mode: puts the change trigger on the synced table when it is not
   * there (first start, or a full refresh that recreated the table). Without
   * it nothing can be proven fresh, so queries use the synced table; the
   * reason is logged once, with what to do about it.
   */
  async #ensureChangeTrigger(): Promise<void> {
    if (this.#deps.options.freshness !== 'trigger') return;
    const target = this.#target;
    const table = `${target.schema}.${target.table}`;
    try {
      if (await hasChangeTrigger(this.#deps.maintenanceDb, target)) {
        if (this.#triggerProblem !== null) this.#deps.logger.info('rollup change trigger in place again', { table });
        this.#triggerProblem = null;
        this.#triggerUnchecked.clear('rollup change trigger in place again', { table });
        return;
      }
      await installChangeTrigger(this.#deps.maintenanceDb, target);
      this.#triggerProblem = null;
      this.#triggerUnchecked.clear('rollup change trigger checked again', { table });
      this.#deps.logger.info('rollup change trigger installed', { table });
    } catch (error) {
      const message = describeError(error);
      // Only a refusal is the role's doing; anything else (no free connection, the database away) is passing,
      // and advising a grant the role already has sent operators the wrong way.
      if (sqlState(error) !== INSUFFICIENT_PRIVILEGE) {
        this.#triggerUnchecked.warn({ table, error: message });
        return;
      }
      if (message !== this.#triggerProblem) {
        const fix = await this.#triggerFix(table);
        this.#deps.logger.warn(
          'rollups unused: cannot install the change trigger that proves them fresh; aggregates use the synced table',
          { table, error: message, ...(fix ? { fix } : {}) },
        );
      }
      this.#triggerProblem = message;
    }
  }

  /**
   * What to do about a refused trigger. TRIGGER lets a role create the trigger, but making it fire for every
   * writer (ENABLE ALWAYS: bulk loaders write as replicas, and a rollup they did not count would be stale) takes
   * ownership: a role that has TRIGGER was told to grant it.
   */
  async #triggerFix(table: string): Promise<string> {
    const alternative = 'or set ROLLUP_FRESHNESS=statistics';
    try {
      const { rows } = await sql<{ granted: boolean }>`
        SELECT has_table_privilege(to_regclass(${qualified(this.#target.schema, this.#target.table)}), 'TRIGGER')
          AS granted`.execute(this.#deps.maintenanceDb);
      if (rows[0]?.granted) {
        return (
          `the gateway role has TRIGGER on ${table}, but making the trigger fire for every writer (ENABLE ALWAYS, ` +
          `for bulk loaders) takes ownership: make the gateway role the table's owner, ${alternative}`
        );
      }
    } catch {
      // The advice below still holds.
    }
    return `grant the gateway role TRIGGER on the synced table (or own it), ${alternative}`;
  }

  /**
   * The synced table's rows changed (a notification from the change trigger
   * or the sync pipeline): check now rather than at the next poll, so an
   * append is folded in within about a second of the sync's commit. Bursts
   * collapse into one check, and a check asked for during a build runs after it.
   */
  wake(): void {
    if (!this.enabled || this.#closed || this.#wakeTimer || this.#deps.options.pollMs <= 0) return;
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      if (this.#building) {
        // A failed build is counted by refresh() and reported to its caller; `finally` would pass the rejection on, unhandled.
        void this.#building.then(
          () => this.wake(),
          () => this.wake(),
        );
        return;
      }
      void this.#tick(true);
    }, WAKE_DEBOUNCE_MS);
    this.#wakeTimer.unref();
  }

  /** Starts the maintainer: builds now if the rollup is missing or stale, then polls. */
  start(): void {
    if (!this.enabled || this.#deps.options.pollMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.#deps.options.pollMs);
    this.#timer.unref();
    void this.#tick();
  }

  async #tick(woken = false): Promise<void> {
    if (this.#building || !this.#installed || this.#deps.activity?.paused) return;
    if (this.#checking) {
      if (woken) this.#wakeAfterCheck = true;
      return;
    }
    this.#checking = true;
    try {
      await this.#maintain();
      this.#maintenanceFailed.clear('rollup maintenance works again');
    } catch (error) {
      this.#maintenanceFailed.warn({ error: describeError(error) });
    } finally {
      this.#checking = false;
      if (this.#wakeAfterCheck) {
        this.#wakeAfterCheck = false;
        this.wake();
      }
    }
  }

  /** One poll: the change trigger in place, then the rollup brought up to date if the table moved. */
  async #maintain(): Promise<void> {
    await this.#ensureChangeTrigger();
    // Decide on the state after any build in flight: read during one, "no rollup yet" sent this check into a
    // second full build of its own after that one, whatever had changed meanwhile, without the stillness wait
    // (seen as a test of that wait failing under load).
    if (this.#building) await this.#building.catch(() => undefined);
    const { rows } = await sql<{
      current: string | null;
      base: string | null;
      built: string | null;
      built_base: string | null;
    }>`
      SELECT state.signature AS current, state.base, s.signature AS built, s.base AS built_base
        FROM (SELECT 1) AS one
        LEFT JOIN ${changeState(this.#target)} AS state ON true
        LEFT JOIN ${sql.table('trip_rollup_state')} AS s ON s.id = 1`.execute(this.#deps.maintenanceDb);
    const { current = null, base = null, built = null, built_base: builtBase = null } = rows[0] ?? {};
    if (current === null || current === built) {
      this.#see(current);
      return;
    }
    // Only INSERTs since the last build (same base): an append of the new
    // rows, cheap, so do it now. Otherwise it is a full scan: while a sync is
    // writing, every poll sees a new signature, and rebuilding each time would
    // only burn CPU. Build once it has held still for one interval, or at once
    // when there is no rollup at all. Held still is a matter of time, not of two
    // checks in a row: every sync notification wakes a check 100 ms later, and one
    // sync sends several, so the second check of one sync rebuilt (6 to 15 full
    // rebuilds a minute while a pipeline updated rows, each a table of dead rows).
    const insertsOnly = base !== null && base === builtBase;
    const append = insertsOnly && !this.#insertsNeedFullBuild;
    if (!append && built !== null) {
      if (current !== this.#lastSeen) {
        this.#see(current);
        return;
      }
      // Inserts only, after a build of them had to be full (late ids): the next check tries again, and it is
      // usually an append. Held to the interval like the others, a pipeline committing more often than it never
      // got one, and every aggregate was read from the table for as long as it streamed.
      if (!insertsOnly && Date.now() - this.#lastSeenAt < this.#deps.options.pollMs) return;
    }
    const outcome = await this.refresh();
    if (insertsOnly && outcome.status === 'built') this.#insertsNeedFullBuild = outcome.build.kind === 'full';
  }

  #see(signature: string | null): void {
    if (signature === this.#lastSeen) return;
    this.#lastSeen = signature;
    this.#lastSeenAt = Date.now();
  }

  /** Rebuilds now unless the rollup already matches the table (force: rebuild anyway). One build at a time. */
  async refresh(force = false): Promise<BuildOutcome> {
    if (!this.enabled) return { status: 'unprovable', reason: 'rollups are disabled (ROLLUPS=off)' };
    if (this.#building) await this.#building.catch(() => undefined);
    const building = buildRollup(this.#deps.maintenanceDb, this.#target, force);
    this.#building = building;
    try {
      const outcome = await building.catch((error: unknown) => {
        this.builds.failed = (this.builds.failed ?? 0) + 1;
        throw error;
      });
      if (outcome.status === 'built') {
        this.builds[outcome.build.kind] = (this.builds[outcome.build.kind] ?? 0) + 1;
        // Appends add a few rows; autovacuum keeps up with those. A rebuild replaced every row.
        if (outcome.build.kind !== 'append') await analyzeRollup(this.#deps.maintenanceDb);
        this.#see(outcome.build.signature);
        const { kind, ms, tripsScanned, grainRows } = outcome.build;
        this.#deps.logger.info(kind === 'full' ? 'rollup rebuilt' : 'rollup brought up to date', {
          kind,
          ms,
          tripsScanned,
          grainRows,
        });
      }
      return outcome;
    } finally {
      this.#building = undefined;
    }
  }

  /** One statement: the rollup's state if its signature equals the table's current one, else null. */
  async freshRollup(): Promise<FreshRollup | null> {
    if (!this.enabled) return null;
    // Compiled once: the text never changes, and this runs on every aggregate request.
    this.#freshnessCheck ??= sql<StateRow>`
      SELECT signature, grain_rows, min_hour, max_hour
        FROM ${sql.table('trip_rollup_state')}
       WHERE id = 1 AND signature = ${currentSignature(this.#target)}`.compile(this.#deps.db);
    const { rows } = await this.#deps.db.executeQuery(this.#freshnessCheck).catch((error: unknown) => {
      // Not installed yet (or dropped by hand): the raw table still answers.
      this.#deps.logger.debug('rollup state unreadable', { error: describeError(error) });
      return { rows: [] };
    });
    const row = rows[0];
    this.#lastFresh = row
      ? { signature: row.signature, grainRows: row.grain_rows, minHour: row.min_hour, maxHour: row.max_hour }
      : null;
    return this.#lastFresh;
  }

  /**
   * A rollup source chosen from the state the last freshness check proved
   * (any request's), carrying a proof that the statement itself checks in its
   * own snapshot: the rollup state still has that signature, and the table's
   * current signature equals it. Null when there is nothing to speculate on:
   * no proven state, or a shape only the raw table answers.
   */
  async #speculate(needs: RollupNeeds | null): Promise<{ source: AggregateSource; signature: string } | null> {
    const rollup = this.#lastFresh;
    if (!this.enabled || !needs || !rollup) return null;
    const source = await this.#sourceFor(needs, rollup);
    if (source.kind !== 'rollup') return null;
    return { source: { ...source, proof: this.#proofOf(rollup.signature) }, signature: rollup.signature };
  }

  /**
   * The proof for a signature, built once per signature (every speculative statement carries it; its key
   * lets the statement memo tell proofs apart: the signature, and this service, whose target is in the text).
   */
  #proofOf(signature: string): StatementProof {
    if (this.#proof?.signature !== signature) {
      const condition = sql<SqlBool>`EXISTS (SELECT 1 FROM ${sql.table('trip_rollup_state')}
                                             WHERE id = 1 AND signature = ${signature}
                                               AND signature = ${currentSignature(this.#target)})`;
      this.#proof = { signature, proof: { condition, key: `${this.#serviceId}:${signature}` } };
    }
    return this.#proof.proof;
  }

  /**
   * Computes an aggregate from the best source. When the last proven rollup
   * state still holds, that is one statement (a round trip fewer than a check
   * and then the query). When the statement's proof fails, the request checks
   * freshness (at most once per request: `fresh` is its memoised check) and
   * asks again, from the rollup or the table.
   *
   * An answer with no rows carries no proof. It still stands when a check
   * run after it finds the same signature: signatures never repeat (counters
   * only grow, oids are new), so the state and the table had that signature
   * all the way from the check that proved it to this one, and so when the
   * answer was read.
   */
  async answer<T>(
    needs: RollupNeeds | null,
    fresh: () => Promise<FreshRollup | null>,
    run: (source: AggregateSource) => Promise<Sourced<T>>,
  ): Promise<T> {
    const speculative = await this.#speculate(needs);
    if (speculative) {
      const answer = await run(speculative.source).catch((error: unknown) => {
        // Bad arguments are the caller's to report, and a statement its client abandoned says nothing about
        // the rollup. Anything else (the rollup or the signature function dropped under us) is decided again
        // by the checked path below.
        if (error instanceof GraphQLError || error instanceof StatementCancelledError) throw error;
        this.#deps.logger.debug('rollup statement failed; checking freshness', { error: describeError(error) });
        this.#lastFresh = null;
        return null;
      });
      const proven =
        answer?.proven === true ||
        // A check run now, not the request's memoised one: that may predate the answer.
        (answer?.proven === null && (await this.freshRollup())?.signature === speculative.signature);
      if (answer && proven) {
        this.served.rollup += 1;
        return answer.value;
      }
    }
    const source = await this.#choose(needs, fresh);
    this.served[source.kind] += 1;
    return (await run(source)).value;
  }

  /** The source for a query with these needs (null needs: the raw table only), after the request's freshness check. */
  async #choose(needs: RollupNeeds | null, fresh: () => Promise<FreshRollup | null>): Promise<AggregateSource> {
    if (!this.enabled || !needs) return RAW;
    const rollup = await fresh();
    return rollup ? this.#sourceFor(needs, rollup) : RAW;
  }

  async #sourceFor(needs: RollupNeeds, rollup: FreshRollup): Promise<AggregateSource> {
    const grain = chooseGrain(needs, rollup.grainRows);
    if (!grain) return RAW;
    if (needs.timeZone && !(await this.#servesZone(needs.timeZone, rollup))) return RAW;
    return { kind: 'rollup', grain };
  }

  /** Whether the rollup's UTC hours can be read in `timeZone` (see hasWholeHourOffsets): all its hours inside the checked span. */
  async #servesZone(timeZone: string, rollup: FreshRollup): Promise<boolean> {
    if (rollup.minHour && rollup.minHour < WHOLE_HOUR_SPAN.from) return false;
    if (rollup.maxHour && rollup.maxHour >= WHOLE_HOUR_SPAN.to) return false;
    return hasWholeHourOffsets(this.#deps.maintenanceDb, timeZone);
  }

  /** pickupBinFor on the maintenance connection pool (uncounted, cached per zone). */
  pickupBin(timeZone: string): Promise<PickupBin | null> {
    return pickupBinFor(this.#deps.maintenanceDb, timeZone);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    await this.#building?.catch(() => undefined);
  }
}
