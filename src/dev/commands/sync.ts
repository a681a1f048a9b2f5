import { parseArgs } from 'node:util';
import { LocalSyncSource } from '../pipeline/local-sync-source.js';
import { readUpdate, type PipelineUpdate } from '../pipeline/updates.js';
import { parseDuration, type DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';

const USAGE = `sync [--full] [--no-wait] [--timeout 5m]
  Starts an update of the synced table (pipelines.startUpdate). A running worker (\`pipeline\` command or the
  dev server) runs it; otherwise it runs here. Waits for it to finish unless --no-wait.`;

export const syncCommand: DevCommand = {
  name: 'sync',
  summary: 'start a refresh of the synced table (--full for a full snapshot) and wait for it',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        full: { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return console.log(USAGE);
    const timeoutMs = values.timeout === undefined ? 300_000 : parseDuration(values.timeout, '--timeout');
    await withPipeline(async ({ pool, names, log }) => {
      const source = new LocalSyncSource(pool, { names, log });
      const { updateId = '' } = await source.startUpdate({ fullRefresh: values.full === true });
      console.log(`started update ${updateId}${values.full ? ' (full refresh)' : ''}`);
      if (values['no-wait']) return;
      await source.settled();
      const update = await waitForUpdate(() => readUpdate(pool, names, updateId), timeoutMs);
      const info = await source.getSyncedTable();
      const version = info.data_synchronization_status?.last_sync?.delta_table_sync_info?.delta_commit_version;
      if (update.state !== 'COMPLETED') throw new Error(`update ${updateId} ${update.state}: ${update.message ?? ''}`);
      console.log(`update ${updateId} COMPLETED: synced table at source version ${version}`);
    });
  },
};

async function waitForUpdate(read: () => Promise<PipelineUpdate | null>, timeoutMs: number): Promise<PipelineUpdate> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const update = await read();
    if (!update) throw new Error('the update vanished from the queue');
    if (update.state === 'COMPLETED' || update.state === 'FAILED') return update;
    if (Date.now() > deadline) throw new Error(`--timeout: update still ${update.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
