import { SYNC_NOTIFY_CHANNEL } from '../sync/sync-notification.js';
import { ConfigError, intVar } from './env.js';

/** Settings of the live trips feed behind Subscription.tripsAdded. */
export interface LiveConfig {
  /** Feed tick interval while anyone is subscribed; NOTIFY and sync status changes wake it sooner. */
  pollIntervalMs: number;
  /** Postgres channel the sync pipeline notifies after each sync; null disables LISTEN (polling only). */
  notifyChannel: string | null;
  /** Rows per feed statement (and per catch-up page); the feed loops while pages come back full. */
  feedBatchRows: number;
  /** Rows a subscriber may have queued before it is cut off as too slow (it then resumes from its cursor). */
  subscriberBufferRows: number;
  /** Most trips in one TripBatch event; a longer queue is sent as several events. */
  eventMaxRows: number;
  /** Interval of `:` keep-alive comments on idle /graphql event streams. */
  keepAliveMs: number;
  /** Concurrent tripsAdded subscriptions per process; more are refused with a clear error. */
  maxSubscribers: number;
  /**
   * How changes are found: `auto` installs the exact change capture when the role may (and falls back
   * to the key high-water mark with a warning when it may not); `off` always uses the high-water mark.
   */
  capture: 'auto' | 'off';
  /** How long the change record keeps changes; older cursors get CURSOR_EXPIRED. */
  changeRetentionSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseLiveConfig(env: Env): LiveConfig {
  const feedBatchRows = intVar(env, 'LIVE_FEED_BATCH_ROWS', 1000, 1, 100_000);
  return {
    pollIntervalMs: intVar(env, 'LIVE_POLL_INTERVAL_MS', 1000, 10, 3_600_000),
    notifyChannel: notifyChannel(env),
    feedBatchRows,
    subscriberBufferRows: intVar(env, 'LIVE_SUBSCRIBER_BUFFER_ROWS', 10_000, 1, 10_000_000),
    eventMaxRows: intVar(env, 'LIVE_EVENT_MAX_ROWS', 500, 1, 100_000),
    keepAliveMs: intVar(env, 'LIVE_KEEPALIVE_MS', 12_000, 50, 600_000),
    maxSubscribers: intVar(env, 'LIVE_MAX_SUBSCRIBERS', 20_000, 1, 1_000_000),
    capture: captureMode(env),
    changeRetentionSeconds: intVar(env, 'LIVE_CHANGE_RETENTION_SECONDS', 7 * 24 * 3600, 1, 366 * 24 * 3600),
  };
}

function notifyChannel(env: Env): string | null {
  const raw = env.LIVE_NOTIFY_CHANNEL?.trim();
  if (raw === undefined || raw === '') return SYNC_NOTIFY_CHANNEL;
  if (raw.toLowerCase() === 'off') return null;
  if (raw.length > 63 || /["\0]/.test(raw)) {
    throw new ConfigError('LIVE_NOTIFY_CHANNEL', `"${raw}" is not a valid Postgres channel name (or "off")`);
  }
  return raw;
}

function captureMode(env: Env): 'auto' | 'off' {
  const raw = env.LIVE_CHANGE_CAPTURE?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'auto') return 'auto';
  if (raw === 'off') return 'off';
  throw new ConfigError('LIVE_CHANGE_CAPTURE', `"${env.LIVE_CHANGE_CAPTURE}" is not one of auto, off`);
}
