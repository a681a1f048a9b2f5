import { ConfigError, read, type Env } from './variables.js';

/** Settings of the live trips feed behind Subscription.tripsAdded. */
export interface LiveConfig {
  /** Feed tick interval while anyone is subscribed; NOTIFY and sync status changes wake it sooner. */
  pollIntervalMs: number;
  /**
   * Tick interval of the exact feed while its wake-ups are reliable (its change triggers NOTIFY at
   * every writing commit, and the LISTEN connection is up); never shorter than pollIntervalMs.
   */
  notifiedPollIntervalMs: number;
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
  /**
   * How changes are found: `auto` installs the exact change capture when the role may (and falls back
   * to the key high-water mark with a warning when it may not); `off` always uses the high-water mark.
   */
  capture: 'auto' | 'off';
  /** How long the change record keeps changes; older cursors get CURSOR_EXPIRED. */
  changeRetentionSeconds: number;
}

export function parseLiveConfig(env: Env): LiveConfig {
  return {
    pollIntervalMs: read(env, 'LIVE_POLL_INTERVAL_MS'),
    notifiedPollIntervalMs: read(env, 'LIVE_NOTIFIED_POLL_INTERVAL_MS'),
    notifyChannel: read(env, 'LIVE_NOTIFY_CHANNEL'),
    feedBatchRows: read(env, 'LIVE_FEED_BATCH_ROWS'),
    subscriberBufferRows: read(env, 'LIVE_SUBSCRIBER_BUFFER_ROWS'),
    eventMaxRows: read(env, 'LIVE_EVENT_MAX_ROWS'),
    keepAliveMs: read(env, 'LIVE_KEEPALIVE_MS'),
    maxSubscribers: read(env, 'LIVE_MAX_SUBSCRIBERS'),
    listenHost: listenHost(env),
    capture: read(env, 'LIVE_CHANGE_CAPTURE'),
    changeRetentionSeconds: read(env, 'LIVE_CHANGE_RETENTION_SECONDS'),
  };
}

function listenHost(env: Env): LiveConfig['listenHost'] {
  const raw = read(env, 'LIVE_LISTEN_HOST');
  if (raw === undefined) return null;
  // A name or IPv4 address, or an IPv6 address: bare, or in brackets when a port follows ([::1]:5432).
  const match =
    /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(raw) ??
    /^\[([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)\](?::(\d{1,5}))?$/.exec(raw) ??
    /^([0-9A-Fa-f]*:[0-9A-Fa-f:.]*)()$/.exec(raw);
  const port = match?.[2] === undefined || match[2] === '' ? undefined : Number(match[2]);
  if (!match || (port !== undefined && (port < 1 || port > 65_535))) {
    throw new ConfigError(
      'LIVE_LISTEN_HOST',
      `expected a host name, an IP address, host:port or [IPv6]:port, got "${raw}"`,
    );
  }
  return { host: match[1]!, port };
}
