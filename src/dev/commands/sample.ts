import { parseArgs } from 'node:util';
import { qualified } from '../../db/sql-identifiers.js';
import { loadSampleIfEmpty } from '../load/sample-if-empty.js';
import { loadSyntheticTrips } from '../load/synthetic-trips.js';
import { DEFAULT_SAMPLE_ROWS, DEFAULT_SAMPLE_SEED } from '../sample/trip-generator.js';
import { formatRate, type Command } from './command.js';

export const sampleCommand: Command = {
  summary: `load the default sample (${DEFAULT_SAMPLE_ROWS} synthetic trips, seed ${DEFAULT_SAMPLE_SEED}) when the table is empty`,
  usage: '[--replace]   (--replace: empty the table first and load the sample anyway)',
  async run(args, context) {
    const { values } = parseArgs({ args, options: { replace: { type: 'boolean', default: false } } });
    const db = await context.database();
    try {
      const table = qualified(db.target.schema, db.target.table);
      if (values.replace) {
        const result = await loadSyntheticTrips(db.pool, {
          ...db.target,
          rows: DEFAULT_SAMPLE_ROWS,
          seed: DEFAULT_SAMPLE_SEED,
          truncate: true,
        });
        context.out(`replaced the contents of ${table} with the sample: ${formatRate(result.rows, result.elapsedMs)}`);
        return;
      }
      const result = await loadSampleIfEmpty(db.pool, db.target);
      context.out(
        result.action === 'loaded'
          ? `loaded the sample into ${table}: ${formatRate(result.rows, result.elapsedMs)}`
          : `${table} already has rows; nothing loaded (use --replace to overwrite them)`,
      );
    } finally {
      await db.close();
    }
  },
};
