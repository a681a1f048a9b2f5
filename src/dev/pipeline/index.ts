/**
 * Local emulation of the Databricks synced-table pipeline (development only;
 * load it lazily from the dev bootstrap, never from production code paths).
 */
export { LocalSyncSource, type LocalSyncSourceOptions } from './local-sync-source.js';
export { SyncWorker, WorkerAlreadyRunningError, type SyncWorkerOptions } from './worker.js';
export { seedLocalPipeline, type SeedOptions, type SeedResult, type SourceLoader } from './seed.js';
export { preparePipeline } from './prepare.js';
export {
  DEFAULT_PIPELINE_NAMES,
  parseSchedulingPolicy,
  pipelineNames,
  SCHEDULING_POLICIES,
  type PipelineNames,
  type SchedulingPolicy,
} from './names.js';
export { CAPTURE_SETTING } from './change-feed-schema.js';
export { DEFAULT_CHANGE_RETENTION_MS, expireChangeData, type ExpiredChangeData } from './retention.js';
export { headVersion } from './change-feed.js';
export { DEFAULT_RUNNER_SETTINGS, type RunnerSettings } from './runner.js';
export { insertNewTrips, insertTrips, updateTrips, deleteTrips, type TripInput } from './source-writes.js';
export { randomTrips, seededRandom } from './random-trips.js';
export { SYNC_NOTIFY_CHANNEL, parseSyncNotification, type SyncNotification } from '../../sync/sync-notification.js';
