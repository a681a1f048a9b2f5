import { parseArgs } from 'node:util';
import { qualified } from '../../db/sql-identifiers.js';
import { loadSyntheticTrips } from '../load/synthetic-trips.js';
import { DEFAULT_SAMPLE_SEED } from '../sample/trip-generator.js';
import { formatRate, integerOption, UsageError, type Command } from './command.js';

const PROGRESS_EVERY = 1_000_000;

export const generateCommand: Command = {
  summary: 'load N synthetic trips with COPY and print the rate',
  usage: `--rows N [--seed N (default ${DEFAULT_SAMPLE_SEED})] [--start-id N (default 1)] [--truncate] [--null-rate 0..1]`,
  async run(args, context) {
    const { values } = parseArgs({
      args,
      options: {
        rows: { type: 'string' },
        seed: { type: 'string' },
        'start-id': { type: 'string' },
        truncate: { type: 'boolean', default: false },
        'null-rate': { type: 'string' },
      },
    });
    if (values.rows === undefined) throw new UsageError('--rows is required');
    const rows = integerOption('rows', values.rows, 0, 1);
    const seed = integerOption('seed', values.seed, DEFAULT_SAMPLE_SEED);
    const startId = integerOption('start-id', values['start-id'], 1);
    const nullRate = values['null-rate'] === undefined ? 0 : Number(values['null-rate']);
    if (!(nullRate >= 0 && nullRate <= 1)) {
      throw new UsageError(`--null-rate: expected a number from 0 to 1, got "${values['null-rate']}"`);
    }
    const db = await context.database();
    try {
      const table = qualified(db.target.schema, db.target.table);
      context.out(`loading ${rows.toLocaleString('en-US')} synthetic trips (seed ${seed}) into ${table}`);
      const result = await loadSyntheticTrips(db.pool, {
        ...db.target,
        rows,
        seed,
        startId,
        nullRate,
        truncate: values.truncate,
        // Commit in batches on large loads so progress shows and an interrupt keeps what was done.
        batchRows: rows > PROGRESS_EVERY ? PROGRESS_EVERY : undefined,
        onProgress: (done) => {
          if (done < rows) context.out(`  ${done.toLocaleString('en-US')} rows`);
        },
      }).catch((error: Error & { code?: string }) => {
        // 23505: unique_violation on the id primary key.
        if (error.code === '23505') {
          throw new Error(`${error.message}\nthe table already has these ids: use --truncate, or --start-id past them`);
        }
        throw error;
      });
      context.out(`loaded ${formatRate(result.rows, result.elapsedMs)}`);
    } finally {
      await db.close();
    }
  },
};
