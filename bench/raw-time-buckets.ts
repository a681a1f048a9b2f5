/**
 * What the two-stage time buckets buy on the synced table (rollups off): the
 * same tripGroups statement with every row converted to the zone, and with
 * the trips first binned in UTC (hours, or quarter hours for zones such as
 * Asia/Kolkata; see pickupBinFor). Figures in docs/aggregates.md.
 *
 *   npx tsx bench/raw-time-buckets.ts --rows 10000000 [--zones Asia/Kolkata,America/New_York] [--runs 3]
 *
 * Uses the database bench/aggregates.ts loads (.data/bench-pg, bench_<rows>); run that once first.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findTripGroups, RAW, type TripGroupQuery } from '../src/aggregates/queries.js';
import { pickupBinFor } from '../src/aggregates/time-zones.js';
import { loadConfig } from '../src/config/env.js';
import { createDb } from '../src/db/database.js';
import { createPool } from '../src/db/pool.js';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.js';
import { createLogger } from '../src/logger.js';
import { parseTripFilter } from '../src/trips/parse-filter.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    zones: { type: 'string', default: 'Asia/Kolkata,America/New_York' },
    runs: { type: 'string', default: '3' },
  },
});
const runs = Number(values.runs);
const embedded = await startEmbeddedPostgres({
  dataDir: fileURLToPath(new URL('../.data/bench-pg', import.meta.url)),
  persistent: true,
});
const config = loadConfig({
  DATABASE_URL: embedded.connectionString.replace(/\/postgres$/, `/bench_${Number(values.rows.replace(/_/g, ''))}`),
}).database!;
const pool = createPool(config, { logger: createLogger('warn'), typeParsers: 'pg' });
const db = createDb(pool, config);

// As the benchmark's daily-month-ny asks (its three aggregates), and hours of day over every trip.
const CASES: { name: string; query: (zone: string) => Omit<TripGroupQuery, 'pickupBin'> }[] = [
  {
    name: 'days of January',
    query: (timeZone) => ({
      dimensions: ['PICKUP_DAY'],
      filter: parseTripFilter({
        pickupAt: { gte: new Date('2016-01-01T00:00:00Z'), lt: new Date('2016-02-01T00:00:00Z') },
      }),
      orderBy: ['KEY_ASC'],
      first: 100,
      timeZone,
      measures: new Set(['fare_sum', 'fare_avg', 'distance_sum'] as const),
    }),
  },
  {
    name: 'hours of day, all trips',
    query: (timeZone) => ({
      dimensions: ['PICKUP_HOUR_OF_DAY'],
      filter: parseTripFilter(null),
      orderBy: ['KEY_ASC'],
      first: 100,
      timeZone,
      measures: new Set(['fare_sum', 'fare_avg', 'distance_sum'] as const),
    }),
  },
];

try {
  console.log(`rows: ${values.rows}, ${runs} runs each, milliseconds (min / median)`);
  const table = ['| zone | query | UTC bin | per row | two stages |', '|---|---|---|---|---|'];
  for (const zone of values.zones.split(',')) {
    const checkStarted = performance.now();
    const bin = await pickupBinFor(db, zone);
    console.log(
      `${zone}: bin ${bin ?? 'none'}, zone check ${(performance.now() - checkStarted).toFixed(0)} ms (once per process)`,
    );
    for (const { name, query } of CASES) {
      const time = async (pickupBin: TripGroupQuery['pickupBin']) => {
        const ms: number[] = [];
        for (let run = 0; run < runs; run++) {
          const started = performance.now();
          await findTripGroups(db, { ...query(zone), pickupBin }, RAW);
          ms.push(performance.now() - started);
        }
        ms.sort((a, b) => a - b);
        return `${ms[0]!.toFixed(0)} / ${ms[Math.floor(ms.length / 2)]!.toFixed(0)}`;
      };
      table.push(`| ${zone} | ${name} | ${bin ?? 'none'} | ${await time(null)} | ${bin ? await time(bin) : '-'} |`);
    }
  }
  console.log(table.join('\n'));
} finally {
  await db.destroy();
  await embedded.stop();
}
