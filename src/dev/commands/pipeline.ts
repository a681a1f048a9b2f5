import { parseArgs } from 'node:util';
import { parseSchedulingPolicy } from '../pipeline/names.js';
import { DEFAULT_CHANGE_RETENTION_MS } from '../pipeline/retention.js';
import { SyncWorker } from '../pipeline/worker.js';
import { parseCount, parseDuration, untilInterrupted, type DevCommand } from './command.js';
import { DEFAULT_RUNNER_SETTINGS } from '../pipeline/runner.js';
import { withPipeline } from './pipeline-session.js';

const USAGE = `pipeline [--policy SNAPSHOT|TRIGGERED|CONTINUOUS] [--interval 15s] [--no-listen] [--retention 7d|off] [--writers 4]
  Runs the sync worker in the foreground until Ctrl-C. --policy switches the synced table's policy.
  CONTINUOUS applies source changes every --interval, or at once on each source commit unless --no-listen
  (use --no-listen --interval 15s to feel Lakebase's latency). TRIGGERED and SNAPSHOT wait for \`sync\`.
  --retention: the source's change data older than this is dropped, as Delta expires its change data feed
  (default 7d; off keeps it). A synced table still behind it gets a snapshot on its next sync.
  --writers: connections a CONTINUOUS batch is written over at once, committing the highest ids first
  (default 4; 1 writes each batch in one transaction).`;

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
        writers: { type: 'string' },
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
    const writers = parseCount(values.writers, '--writers', DEFAULT_RUNNER_SETTINGS.continuousWriters);
    if (writers < 1 || writers > 32) throw new Error(`--writers: expected 1 to 32, got ${writers}`);
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
            settings: { continuousWriters: writers },
            log: (line) => log(`${new Date().toISOString()} ${line}`),
          });
          await worker.start();
          log(`pipeline worker running for ${names.syncedSchema}.${names.syncedTable}; Ctrl-C to stop`);
          await stop.promise;
          await worker.stop();
        },
        // The control connection, and one per writer.
        { poolMax: Math.max(3, writers + 1) },
      );
    } finally {
      stop.dispose();
    }
  },
};
