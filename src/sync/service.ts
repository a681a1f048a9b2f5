import type { RefreshAdminConfig } from '../config/databricks.js';
import type { CachedSyncStatus } from './cached-sync-status.js';

/**
 * What the GraphQL layer needs for syncStatus, refreshSyncedTable and
 * syncStatusChanged: the cached status of whichever SyncSource is configured
 * (Databricks or the local emulator) and who may refresh it.
 */
export interface SyncService {
  status: CachedSyncStatus;
  admin: RefreshAdminConfig;
}
