import { parseArgs } from 'node:util';
import { headVersion } from '../pipeline/change-feed.js';
import { updateTrips, type RowSelection } from '../pipeline/source-writes.js';
import { parseCount, parseIds, parseNumber, parseZip, type DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';

const USAGE = `update (--ids 1,2,3 | --count N) [--fare X] [--distance X] [--pickup-zip Z] [--dropoff-zip Z]
  Updates trips in the source table (one source version). Without a value to set, raises the fare by 1.00.`;

export const updateCommand: DevCommand = {
  name: 'update',
  summary: 'update some trips in the source table, by id or a random sample',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ids: { type: 'string' },
        count: { type: 'string' },
        fare: { type: 'string' },
        distance: { type: 'string' },
        'pickup-zip': { type: 'string' },
        'dropoff-zip': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return console.log(USAGE);
    const selection = rowSelection(values.ids, values.count, 'update');
    const changes = {
      fare_amount: parseNumber(values.fare, '--fare'),
      trip_distance: parseNumber(values.distance, '--distance'),
      pickup_zip: parseZip(values['pickup-zip'], '--pickup-zip'),
      dropoff_zip: parseZip(values['dropoff-zip'], '--dropoff-zip'),
    };
    await withPipeline(async ({ pool, names }) => {
      const ids = await updateTrips(pool, names, selection, changes);
      console.log(`updated ${ids.length} trips (${preview(ids)}); source at version ${await headVersion(pool, names)}`);
    });
  },
};

export function rowSelection(ids: string | undefined, count: string | undefined, command: string): RowSelection {
  if ((ids === undefined) === (count === undefined))
    throw new Error(`give exactly one of --ids or --count (${command} --help)`);
  return ids !== undefined ? { ids: parseIds(ids, '--ids') } : { randomCount: parseCount(count, '--count', 0) };
}

export function preview(ids: readonly string[]): string {
  if (ids.length === 0) return 'none matched';
  return ids.length <= 10 ? `ids ${ids.join(', ')}` : `ids ${ids.slice(0, 10).join(', ')}, ...`;
}
