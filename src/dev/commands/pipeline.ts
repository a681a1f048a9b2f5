import { parseArgs } from 'node:util';
import { parseSchedulingPolicy } from '../pipeline/names.js';
import { DEFAULT_CHANGE_RETENTION_MS } from '../pipeline/retention.js';
import { SyncWorker } from '../pipeline/worker.js';
import { parseDuration, untilInterrupted, type DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';

const USAGE = `pipeline [--policy SNAPSHOT|TRIGGERED|CONTINUOUS] [--interval 15s] [--no-listen] [--retention 7d|off]
  Runs the sync worker in the foreground until Ctrl-C. --policy switches the synced table's policy.
  CONTINUOUS applies source changes every --interval, or at once on each source commit unless --no-listen
  (use --no-listen --interval 15s to feel Lakebase's latency). TRIGGERED and SNAPSHOT wait for \`sync\`.
  --retention: the source's change data older than this is dropped, as Delta expires its change data feed
  (default 7d; off keeps it). A synced table still behind it gets a snapshot on its next sync.`;

export const pipelineCommand: DevCommand = {
  name: 'pipeline',
  summary: 'run the sync pipeline worker in the foreground (--policy CONTINUOUS to sync continuously)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        policy: { type: 'string' },
        interval: { type: 'string' },
        'no-listen': { type: 'boolean' },
        retention: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return console.log(USAGE);
    const policy = values.policy === undefined ? undefined : parseSchedulingPolicy(values.policy, '--policy');
    const intervalMs = values.interval === undefined ? 15_000 : parseDuration(values.interval, '--interval');
    const changeRetentionMs =
      values.retention === undefined
        ? DEFAULT_CHANGE_RETENTION_MS
        : values.retention === 'off'
          ? null
          : parseDuration(values.retention, '--retention');
    const stop = untilInterrupted();
    try {
      await withPipeline(
        async ({ pool, names, log }) => {
          const worker = new SyncWorker(pool, {
            names,
            policy,
            intervalMs,
            wakeOnSourceCommit: values['no-listen'] !== true,
            changeRetentionMs,
            log: (line) => log(`${new Date().toISOString()} ${line}`),
          });
          await worker.start();
          log(`pipeline worker running for ${names.syncedSchema}.${names.syncedTable}; Ctrl-C to stop`);
          await stop.promise;
          await worker.stop();
        },
        { poolMax: 3 },
      );
    } finally {
      stop.dispose();
    }
  },
};
