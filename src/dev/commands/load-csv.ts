import { parseArgs } from 'node:util';
import { qualified } from '../../db/sql-identifiers.js';
import { loadTripsCsv } from '../load/trips-csv.js';
import { formatRate, integerOption, UsageError, type Command } from './command.js';

export const loadCsvCommand: Command = {
  summary: 'load a CSV export of samples.nyctaxi.trips (ids 1..N in file order unless it has an id column)',
  usage: '<file> [--truncate] [--start-id N (default 1)]',
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { truncate: { type: 'boolean', default: false }, 'start-id': { type: 'string' } },
    });
    const [file, ...extra] = positionals;
    if (file === undefined) throw new UsageError('the CSV file is required');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const startId = integerOption('start-id', values['start-id'], 1);
    const db = await context.database();
    try {
      const result = await loadTripsCsv(db.pool, { ...db.target, file, truncate: values.truncate, startId });
      context.out(
        `loaded ${file} into ${qualified(db.target.schema, db.target.table)}: ${formatRate(result.rows, result.elapsedMs)}, ` +
          `ids ${result.ids === 'file' ? 'from the file' : `assigned from ${startId}`}`,
      );
    } finally {
      await db.close();
    }
  },
};
