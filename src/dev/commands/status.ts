import { parseArgs } from 'node:util';
import { LocalSyncSource } from '../pipeline/local-sync-source.js';
import type { DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';

export const statusCommand: DevCommand = {
  name: 'status',
  summary: 'print the synced table status as the Databricks API returns it (GET database/synced_tables)',
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' } } });
    if (values.help)
      return console.log('status\n  Prints the synced table status JSON (Databricks SyncedDatabaseTable shape).');
    await withPipeline(async ({ pool, names }) => {
      const info = await new LocalSyncSource(pool, { names, runUpdatesWithoutWorker: false }).getSyncedTable();
      console.log(JSON.stringify(info, null, 2));
    });
  },
};
