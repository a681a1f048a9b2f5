import { parseArgs } from 'node:util';
import { headVersion } from '../pipeline/change-feed.js';
import { deleteTrips } from '../pipeline/source-writes.js';
import type { DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';
import { preview, rowSelection } from './update.js';

const USAGE = `delete (--ids 1,2,3 | --count N)
  Deletes trips from the source table (one source version); --count picks them at random.`;

export const deleteCommand: DevCommand = {
  name: 'delete',
  summary: 'delete some trips from the source table, by id or a random sample',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { ids: { type: 'string' }, count: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) return console.log(USAGE);
    const selection = rowSelection(values.ids, values.count, 'delete');
    await withPipeline(async ({ pool, names }) => {
      const ids = await deleteTrips(pool, names, selection);
      console.log(`deleted ${ids.length} trips (${preview(ids)}); source at version ${await headVersion(pool, names)}`);
    });
  },
};
