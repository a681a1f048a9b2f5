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
   * Host (and optional port) for the LISTEN connection only (LIVE_LISTEN_HOST):
   * the endpoint's direct host when PGHOST is a pooled one, which cannot carry LISTEN.
   */
  listenHost: { host: string; port: number | undefined } | null;
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
    listenHost: listenHost(env),
  };
}

function listenHost(env: Env): LiveConfig['listenHost'] {
  const raw = env.LIVE_LISTEN_HOST?.trim();
  if (raw === undefined || raw === '') return null;
  const match = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(raw);
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || (port !== undefined && (port < 1 || port > 65_535))) {
    throw new ConfigError('LIVE_LISTEN_HOST', `expected a host name or host:port, got "${raw}"`);
  }
  return { host: match[1]!, port };
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
