import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { MEASURE_EXPRESSIONS, MEASURES, rollupColumn } from '../stats.js';
import { GRAIN_NAMES, GRAINS, type Grain, type RollupKey } from './grains.js';
import { currentSignature } from './signature.js';

export interface RollupBuild {
  signature: string;
  grainRows: Record<Grain, number>;
  ms: number;
}

export type BuildOutcome =
  | { status: 'built'; build: RollupBuild }
  | { status: 'unchanged'; signature: string }
  | { status: 'unprovable'; reason: string };

/** Keys of the grains aggregated straight from the trips, in one scan. */
const KEY_COLUMNS: readonly RollupKey[] = ['pickup_zip', 'dropoff_zip', 'tpep_pickup_datetime', 'fare_amount'];

/**
 * Borough grains are derived from the ZIP x hour grains (a borough is a set of
 * ZIPs): joining the reference table to ~200k rollup rows instead of to every
 * trip keeps the scan of the synced table free of joins.
 */
const DERIVED: Partial<Record<Grain, { from: Grain; borough: 'pickup_borough' | 'dropoff_borough'; zip: string }>> = {
  bh: { from: 'ph', borough: 'pickup_borough', zip: 'pickup_zip' },
  dbh: { from: 'dh', borough: 'dropoff_borough', zip: 'dropoff_zip' },
};
const SCANNED = GRAIN_NAMES.filter((grain) => !DERIVED[grain]);

/** GROUPING(<KEY_COLUMNS>) of each grain: a bit is set for each key the grain does not group by. */
function groupingMask(grain: Grain): number {
  const keys: readonly RollupKey[] = GRAINS[grain];
  const last = KEY_COLUMNS.length - 1;
  return KEY_COLUMNS.reduce((mask, column, index) => (keys.includes(column) ? mask : mask | (1 << (last - index))), 0);
}

/**
 * Rebuilds every grain from one scan of the synced table (GROUPING SETS; the
 * borough grains are then derived from the ZIP grains), in
 * one transaction: readers see the old rollup or the new one, never a mix.
 * The signature is read before the scan's snapshot is taken, so the rollup
 * holds at least every change the signature reflects; a change that slips in
 * between makes the next signature differ (a spurious rebuild, never a stale
 * answer). An advisory lock keeps concurrent instances from building at once.
 */
export async function buildRollup(db: Db, schema: string, table: string, force = false): Promise<BuildOutcome> {
  const started = performance.now();
  return db.transaction().execute(async (trx) => {
    // A build scans the whole synced table in the background (about a minute at 10M rows on 2 cores):
    // the per-request statement timeout (PG_STATEMENT_TIMEOUT_MS) must not cancel it.
    await sql`SET LOCAL statement_timeout = 0`.execute(trx);
    await sql`SELECT pg_advisory_xact_lock(hashtext('lakebase-graphql rollup build'))`.execute(trx);
    const { rows } = await sql<{ current: string | null; built: string | null }>`
      SELECT ${currentSignature(schema, table)} AS current,
             (SELECT signature FROM ${sql.table('trip_rollup_state')} WHERE id = 1) AS built`.execute(trx);
    const signature = rows[0]?.current ?? null;
    if (signature === null) {
      return {
        status: 'unprovable',
        reason: `no change signature for ${schema}.${table} (missing, or track_counts off)`,
      };
    }
    if (!force && rows[0]?.built === signature) return { status: 'unchanged', signature };

    await sql`DELETE FROM ${sql.table('trip_rollup')}`.execute(trx);
    const grainOf = sql.join(
      SCANNED.map((grain) => sql`WHEN ${sql.lit(groupingMask(grain))} THEN ${sql.lit(grain)}`),
      sql` `,
    );
    const sets = sql.join(SCANNED.map((grain) => sql`(${sql.join(GRAINS[grain].map((c) => sql.ref(c)))})`));
    const keys = sql.join(KEY_COLUMNS.map((column) => sql.ref(column)));
    const partials = MEASURES.flatMap((measure) => [
      sql`sum(${sql.ref(measure)})`,
      sql`count(${sql.ref(measure)})`,
      sql`min(${sql.ref(measure)})`,
      sql`max(${sql.ref(measure)})`,
    ]);
    const partialColumns = MEASURES.flatMap((measure) =>
      (['sum', 'nonnull', 'min', 'max'] as const).map((part) => sql.ref(rollupColumn(measure, part))),
    );
    await sql`
      INSERT INTO ${sql.table('trip_rollup')}
        (grain, ${keys}, trips_part, ${sql.join(partialColumns)})
      SELECT CASE GROUPING(${keys}) ${grainOf} END, ${keys}, count(*), ${sql.join(partials)}
        FROM (SELECT pickup_zip, dropoff_zip, fare_amount,
                     date_trunc('hour', tpep_pickup_datetime, 'UTC') AS tpep_pickup_datetime,
                     ${sql.join(MEASURES.map((measure) => sql`${MEASURE_EXPRESSIONS[measure]} AS ${sql.ref(measure)}`))}
                FROM ${sql.table('trips')}) AS t
       GROUP BY GROUPING SETS (${sets})`.execute(trx);
    const combined = MEASURES.flatMap((measure) =>
      (['sum', 'nonnull', 'min', 'max'] as const).map((part) => {
        const column = sql.ref(rollupColumn(measure, part));
        return part === 'min' ? sql`min(${column})` : part === 'max' ? sql`max(${column})` : sql`sum(${column})`;
      }),
    );
    for (const [grain, derived] of Object.entries(DERIVED)) {
      if (!derived) continue;
      await sql`
        INSERT INTO ${sql.table('trip_rollup')}
          (grain, ${sql.ref(derived.borough)}, tpep_pickup_datetime, trips_part, ${sql.join(partialColumns)})
        SELECT ${sql.lit(grain)}, z.borough, r.tpep_pickup_datetime, sum(r.trips_part), ${sql.join(combined)}
          FROM ${sql.table('trip_rollup')} AS r
          LEFT JOIN ${sql.table('zip_zones')} AS z ON z.zip = r.${sql.ref(derived.zip)}
         WHERE r.grain = ${sql.lit(derived.from)}
         GROUP BY z.borough, r.tpep_pickup_datetime`.execute(trx);
    }
    const counts = await sql<{ grain: Grain; rows: string }>`
      SELECT grain, count(*) AS rows FROM ${sql.table('trip_rollup')} GROUP BY grain`.execute(trx);
    const grainRows = Object.fromEntries(GRAIN_NAMES.map((grain) => [grain, 0])) as Record<Grain, number>;
    for (const row of counts.rows) grainRows[row.grain] = Number(row.rows);
    const ms = Math.round(performance.now() - started);
    await sql`
      INSERT INTO ${sql.table('trip_rollup_state')} (id, signature, built_at, grain_rows, build_ms, min_hour, max_hour)
      SELECT 1, ${signature}, now(), ${JSON.stringify(grainRows)}::jsonb, ${ms},
             min(tpep_pickup_datetime), max(tpep_pickup_datetime)
        FROM ${sql.table('trip_rollup')} WHERE grain = 'h'
      ON CONFLICT (id) DO UPDATE SET signature = EXCLUDED.signature, built_at = EXCLUDED.built_at,
        grain_rows = EXCLUDED.grain_rows, build_ms = EXCLUDED.build_ms,
        min_hour = EXCLUDED.min_hour, max_hour = EXCLUDED.max_hour`.execute(trx);
    return { status: 'built', build: { signature, grainRows, ms } } as const;
  });
}

/** Statistics for the planner and a vacuum for the rows the rebuild deleted; outside the build's transaction. */
export async function analyzeRollup(db: Db): Promise<void> {
  await sql`VACUUM (ANALYZE) ${sql.table('trip_rollup')}`.execute(db);
}
