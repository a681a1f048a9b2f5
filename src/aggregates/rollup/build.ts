import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.js';
import type { TripRollupStateTable } from '../../db/tables.js';
import { MEASURE_EXPRESSIONS, MEASURES, recombinedPart, ROLLUP_PARTS, rollupColumn } from '../stats.js';
import { GRAIN_NAMES, GRAINS, type Grain, type RollupKey } from './grains.js';
import { changeState, type ChangeState, type SignatureTarget } from './signature.js';

/** full: every row re-aggregated; append: only trips with ids past the rollup's; compact: an append, then duplicates merged. */
export type BuildKind = 'full' | 'append' | 'compact';

export interface RollupBuild {
  kind: BuildKind;
  signature: string;
  grainRows: Record<Grain, number>;
  /** Trips aggregated by this build (all of them for a full build, the new ones for an append). */
  tripsScanned: number;
  ms: number;
}

export type BuildOutcome =
  | { status: 'built'; build: RollupBuild }
  | { status: 'unchanged'; signature: string }
  | { status: 'unprovable'; reason: string };

/** Keys of the grains aggregated straight from the trips, in one scan. */
const KEY_COLUMNS: readonly RollupKey[] = ['pickup_zip', 'dropoff_zip', 'tpep_pickup_datetime', 'fare_amount'];
const ALL_KEYS: readonly RollupKey[] = [...KEY_COLUMNS, 'pickup_borough', 'dropoff_borough'];

/**
 * Borough grains are derived from the ZIP x hour grains (a borough is a set of
 * ZIPs): joining the reference table to the rollup rows instead of to every
 * trip keeps the scan of the synced table free of joins.
 */
const DERIVED: Readonly<
  Record<string, { from: Grain; borough: 'pickup_borough' | 'dropoff_borough'; zip: 'pickup_zip' | 'dropoff_zip' }>
> = {
  bh: { from: 'ph', borough: 'pickup_borough', zip: 'pickup_zip' },
  dbh: { from: 'dh', borough: 'dropoff_borough', zip: 'dropoff_zip' },
};
const SCANNED = GRAIN_NAMES.filter((grain) => !(grain in DERIVED));

/** Rollups grow by appends; past this many times their size after the last full build or compaction, they are compacted. */
const COMPACT_FACTOR = 2;

/** GROUPING(<KEY_COLUMNS>) of each grain: a bit is set for each key the grain does not group by. */
function groupingMask(grain: Grain): number {
  const keys: readonly RollupKey[] = GRAINS[grain];
  const last = KEY_COLUMNS.length - 1;
  return KEY_COLUMNS.reduce((mask, column, index) => (keys.includes(column) ? mask : mask | (1 << (last - index))), 0);
}

const partialColumns = MEASURES.flatMap((measure) => ROLLUP_PARTS.map((part) => sql.ref(rollupColumn(measure, part))));

/** Partials of partials: how rollup rows of one key combine. */
const combinedPartials = MEASURES.flatMap((measure) => ROLLUP_PARTS.map((part) => recombinedPart(measure, part)));

/**
 * One statement: aggregates the trips with ids past `afterId` (all of them
 * when null) into every scanned grain (GROUP BY GROUPING SETS, one scan), and
 * derives the borough grains from the ZIP x hour rows it just wrote. A key
 * may then have several rollup rows (an append adds rows beside the old
 * ones); every query recombines rows with sum/min/max, so that is exact.
 */
function appendPartials(afterId: string | null): RawBuilder<{ trips: string }> {
  const keys = sql.join(KEY_COLUMNS.map((column) => sql.ref(column)));
  const grainOf = sql.join(
    SCANNED.map((grain) => sql`WHEN ${sql.lit(groupingMask(grain))} THEN ${sql.lit(grain)}`),
    sql` `,
  );
  const sets = sql.join(SCANNED.map((grain) => sql`(${sql.join(GRAINS[grain].map((c) => sql.ref(c)))})`));
  const partials = MEASURES.flatMap((measure) => [
    sql`sum(${sql.ref(measure)})`,
    sql`count(${sql.ref(measure)})`,
    sql`min(${sql.ref(measure)})`,
    sql`max(${sql.ref(measure)})`,
  ]);
  const newTrips = afterId === null ? sql`true` : sql`id > ${afterId}::int8`;
  // Each derived grain fills one borough column from the ZIP column of its source grain.
  const derived = Object.entries(DERIVED).map(
    ([grain, from], index) => sql`${sql.raw(`derived_${index}`)} AS (
      INSERT INTO ${sql.table('trip_rollup')}
        (grain, ${sql.ref(from.borough)}, tpep_pickup_datetime, trips_part, ${sql.join(partialColumns)})
      SELECT ${sql.lit(grain)}, z.borough, s.tpep_pickup_datetime, sum(s.trips_part), ${sql.join(combinedPartials)}
        FROM scanned AS s LEFT JOIN ${sql.table('zip_zones')} AS z ON z.zip = s.${sql.ref(from.zip)}
       WHERE s.grain = ${sql.lit(from.from)}
       GROUP BY z.borough, s.tpep_pickup_datetime
      RETURNING 1)`,
  );
  return sql<{ trips: string }>`
    WITH scanned AS (
      INSERT INTO ${sql.table('trip_rollup')} (grain, ${keys}, trips_part, ${sql.join(partialColumns)})
      SELECT CASE GROUPING(${keys}) ${grainOf} END, ${keys}, count(*), ${sql.join(partials)}
        FROM (SELECT pickup_zip, dropoff_zip, fare_amount,
                     date_trunc('hour', tpep_pickup_datetime, 'UTC') AS tpep_pickup_datetime,
                     ${sql.join(MEASURES.map((measure) => sql`${MEASURE_EXPRESSIONS[measure]} AS ${sql.ref(measure)}`))}
                FROM ${sql.table('trips')} WHERE ${newTrips}) AS t
       GROUP BY GROUPING SETS (${sets})
      RETURNING *),
    ${sql.join(derived, sql`, `)}
    SELECT coalesce(sum(trips_part) FILTER (WHERE grain = 'h'), 0)::text AS trips FROM scanned`;
}

/**
 * Merges the rows of each key into one (after appends), in one statement: the
 * data-modifying CTE deletes the rows and the INSERT re-adds them combined.
 * NULL keys group together, as they did when aggregated from the trips.
 */
function compactRollup(): RawBuilder<unknown> {
  const keys = sql.join(ALL_KEYS.map((column) => sql.ref(column)));
  return sql`
    WITH old AS (DELETE FROM ${sql.table('trip_rollup')} RETURNING *)
    INSERT INTO ${sql.table('trip_rollup')} (grain, ${keys}, trips_part, ${sql.join(partialColumns)})
    SELECT grain, ${keys}, sum(trips_part), ${sql.join(combinedPartials)}
      FROM old GROUP BY grain, ${keys}`;
}

type StoredState = Pick<
  TripRollupStateTable,
  'signature' | 'base' | 'inserts' | 'max_id' | 'trips_total' | 'compacted_rows'
>;

/**
 * Brings the rollup up to date with the synced table, in one REPEATABLE READ
 * transaction: the change state is read in the same snapshot as the trips it
 * aggregates, so the recorded signature describes exactly the rows in the
 * rollup, and readers see the old rollup or the new one, never a mix.
 *
 * When the change trigger shows that only INSERT statements ran since the last
 * build, and the trips now number exactly the old total plus those with ids
 * past the rollup's largest (so no insert went below it), only the new trips
 * are aggregated and added: under a CONTINUOUS sync that is seconds of new
 * rows instead of a scan of the whole table. Anything else is a full build.
 */
export async function buildRollup(db: Db, target: SignatureTarget, force = false): Promise<BuildOutcome> {
  const started = performance.now();
  return db.connection().execute(async (connection) => {
    // Serializes builds across gateway instances. Taken before the snapshot, so
    // a build that waited sees what the previous one committed.
    await sql`SELECT pg_advisory_lock(hashtext('lakebase-graphql rollup build'))`.execute(connection);
    try {
      return await connection
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          // A full build scans the whole synced table (tens of seconds at 10M rows on 2 cores):
          // the per-request statement timeout (PG_STATEMENT_TIMEOUT_MS) must not cancel it.
          await sql`SET LOCAL statement_timeout = 0`.execute(trx);
          const { rows } = await sql<ChangeState>`SELECT state.* FROM ${changeState(target)} AS state`.execute(trx);
          const current = rows[0];
          const stored: StoredState | null =
            (await trx
              .selectFrom('trip_rollup_state')
              .select(['signature', 'base', 'inserts', 'max_id', 'trips_total', 'compacted_rows'])
              .where('id', '=', 1)
              .executeTakeFirst()) ?? null;
          if (!current?.signature) {
            return {
              status: 'unprovable',
              reason:
                target.freshness === 'trigger'
                  ? `no change trigger on ${target.schema}.${target.table} (or the table is missing)`
                  : `no change signature for ${target.schema}.${target.table} (missing, or track_counts off)`,
            } as const;
          }
          if (!force && stored?.signature === current.signature) {
            return { status: 'unchanged', signature: current.signature } as const;
          }

          let kind: BuildKind = 'full';
          let scanned: number;
          let tripsTotal: string;
          let compactedRows = stored ? Number(stored.compacted_rows) : 0;
          const appendable =
            !force &&
            stored !== null &&
            current.base !== null &&
            stored.base === current.base &&
            stored.inserts !== null &&
            current.inserts !== null &&
            BigInt(current.inserts) > BigInt(stored.inserts);
          const counts = appendable
            ? (
                await sql<{ total: string; appended: string }>`
                  SELECT count(*)::text AS total,
                         count(*) FILTER (WHERE ${stored.max_id === null ? sql`true` : sql`id > ${stored.max_id}::int8`})::text
                           AS appended
                    FROM ${sql.table('trips')}`.execute(trx)
              ).rows[0]
            : undefined;
          if (appendable && counts && BigInt(counts.total) === BigInt(stored.trips_total) + BigInt(counts.appended)) {
            kind = 'append';
            const appended = await appendPartials(stored.max_id).execute(trx);
            scanned = Number(appended.rows[0]?.trips ?? 0);
            tripsTotal = counts.total;
          } else {
            await sql`DELETE FROM ${sql.table('trip_rollup')}`.execute(trx);
            const built = await appendPartials(null).execute(trx);
            scanned = Number(built.rows[0]?.trips ?? 0);
            tripsTotal = String(scanned);
          }

          const grainRows = await countGrainRows(trx);
          let rollupRows = Object.values(grainRows).reduce((sum, n) => sum + n, 0);
          if (kind === 'append' && rollupRows > COMPACT_FACTOR * Math.max(compactedRows, 1)) {
            kind = 'compact';
            await compactRollup().execute(trx);
            Object.assign(grainRows, await countGrainRows(trx));
            rollupRows = Object.values(grainRows).reduce((sum, n) => sum + n, 0);
          }
          if (kind !== 'append') compactedRows = rollupRows;

          const ms = Math.round(performance.now() - started);
          await sql`
            INSERT INTO ${sql.table('trip_rollup_state')}
              (id, signature, base, inserts, built_at, grain_rows, build_ms, min_hour, max_hour,
               max_id, trips_total, compacted_rows)
            SELECT 1, ${current.signature}, ${current.base}, ${current.inserts}, now(),
                   ${JSON.stringify(grainRows)}::jsonb, ${ms},
                   (SELECT min(tpep_pickup_datetime) FROM ${sql.table('trip_rollup')} WHERE grain = 'h'),
                   (SELECT max(tpep_pickup_datetime) FROM ${sql.table('trip_rollup')} WHERE grain = 'h'),
                   (SELECT max(id) FROM ${sql.table('trips')}), ${tripsTotal}, ${compactedRows}
            ON CONFLICT (id) DO UPDATE SET signature = EXCLUDED.signature, base = EXCLUDED.base,
              inserts = EXCLUDED.inserts, built_at = EXCLUDED.built_at, grain_rows = EXCLUDED.grain_rows,
              build_ms = EXCLUDED.build_ms, min_hour = EXCLUDED.min_hour, max_hour = EXCLUDED.max_hour,
              max_id = EXCLUDED.max_id, trips_total = EXCLUDED.trips_total,
              compacted_rows = EXCLUDED.compacted_rows`.execute(trx);
          return {
            status: 'built',
            build: { kind, signature: current.signature, grainRows, tripsScanned: scanned, ms },
          } as const;
        });
    } finally {
      // A session lock dies with its session: when the connection is gone (the
      // database restarted, the backend was terminated) there is nothing to
      // unlock, and the build's own error is the one to report. Left
      // unhandled, that failed unlock would replace it, or reject unobserved.
      await sql`SELECT pg_advisory_unlock(hashtext('lakebase-graphql rollup build'))`
        .execute(connection)
        .catch(() => undefined);
    }
  });
}

async function countGrainRows(db: Db): Promise<Record<Grain, number>> {
  const counts = await sql<{ grain: Grain; rows: string }>`
    SELECT grain, count(*) AS rows FROM ${sql.table('trip_rollup')} GROUP BY grain`.execute(db);
  const grainRows = Object.fromEntries(GRAIN_NAMES.map((grain) => [grain, 0])) as Record<Grain, number>;
  for (const row of counts.rows) grainRows[row.grain] = Number(row.rows);
  return grainRows;
}

/**
 * Statistics for the planner and a vacuum for the rows a rebuild deleted; outside the build's transaction, so
 * the build's `SET LOCAL statement_timeout = 0` does not cover it: with a short PG_STATEMENT_TIMEOUT_MS it was
 * cancelled after every rebuild. Its connection's timeout is turned off for it, and restored.
 */
export async function analyzeRollup(db: Db): Promise<void> {
  await db.connection().execute(async (connection) => {
    await sql`SET statement_timeout = 0`.execute(connection);
    try {
      await sql`VACUUM (ANALYZE) ${sql.table('trip_rollup')}`.execute(connection);
    } finally {
      await sql`RESET statement_timeout`.execute(connection);
    }
  });
}
