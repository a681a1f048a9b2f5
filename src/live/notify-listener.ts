import type pg from 'pg';
import { quoteIdent } from '../db/sql-identifiers.js';
import type { Logger } from '../logger.js';
import { describeError } from '../errors.js';

export interface NotifyListenerOptions {
  channel: string;
  /** Opens a new dedicated connection. */
  connect: () => Promise<pg.Client>;
  onNotify: (payload: string | undefined) => void;
  /** After every (re)connect: notifications sent while disconnected are lost, so the owner should look for itself. */
  onListening: () => void;
  /** When an established LISTEN connection is lost (notifications may be missed until it is back). */
  onLost?: () => void;
  logger: Logger;
  /**
   * The connection is replaced after this long even when healthy: a Lakebase
   * OAuth token is only checked at login, and no session should outlive it.
   */
  maxLifetimeMs: number;
  /**
   * While true, a lost or recycled connection is not replaced (db/database-activity.ts: a scale-to-zero compute
   * closes idle connections when it suspends, and reconnecting would wake it); `resume()` connects again.
   */
  paused?: () => boolean;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * LISTEN on a dedicated connection that reconnects for ever (with backoff)
 * after the database drops it. Where LISTEN is not allowed the attempts keep
 * failing quietly at the slowest rate and the feed still polls.
 */
export class NotifyListener {
  private client: pg.Client | undefined;
  private failures = 0;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private recycleTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private established = 0;
  /** Not connected because the owner paused background work; resume() connects. */
  private parked = false;

  constructor(private readonly options: NotifyListenerOptions) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** LISTEN connections established so far (a reconnect adds one); lets a caller see a reconnect it could not watch happen. */
  get connections(): number {
    return this.established;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connecting = this.connect();
  }

  /** Connects again if a pause left the listener without a connection. */
  resume(): void {
    if (!this.parked || this.stopped) return;
    this.parked = false;
    this.connecting = this.connect();
  }

  /** True, and nothing reconnects, while the owner has paused background work. */
  private park(): boolean {
    if (!this.options.paused?.()) return false;
    this.parked = true;
    this.options.logger.info('not listening for sync notifications while background database work is paused', {
      channel: this.options.channel,
    });
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.recycleTimer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const { channel, logger } = this.options;
    let client: pg.Client | undefined;
    try {
      client = await this.options.connect();
      const own = client;
      own.on('error', (error) => this.lost(own, error));
      own.on('end', () => this.lost(own));
      own.on('notification', (message) => {
        if (message.channel === channel) this.options.onNotify(message.payload);
      });
      await own.query(`LISTEN ${quoteIdent(channel)}`);
      if (this.stopped) {
        await own.end().catch(() => {});
        return;
      }
      this.client = own;
      this.established += 1;
      if (this.failures > 0) logger.info('listening for sync notifications again', { channel });
      else logger.debug('listening for sync notifications', { channel });
      this.failures = 0;
      this.recycleTimer = setTimeout(() => this.recycle(own), this.options.maxLifetimeMs);
      this.recycleTimer.unref();
      this.options.onListening();
    } catch (error) {
      this.failures += 1;
      const retryInMs = this.backoffMs();
      logger.warn('cannot LISTEN for sync notifications; the live feed polls meanwhile', {
        channel,
        attempt: this.failures,
        retryInMs,
        error: describeError(error),
      });
      if (client) {
        client.removeAllListeners('end');
        await client.end().catch(() => {});
      }
      this.retry(retryInMs);
    } finally {
      this.connecting = undefined;
    }
  }

  private lost(client: pg.Client, error?: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    clearTimeout(this.recycleTimer);
    client.end().catch(() => {});
    if (this.stopped) return;
    this.options.onLost?.();
    if (this.park()) return;
    this.failures += 1;
    this.options.logger.warn('sync notification connection lost; reconnecting', {
      channel: this.options.channel,
      error: error?.message ?? 'connection ended',
    });
    // The first reconnect is immediate: a dropped connection is usually a
    // restart or a recycled backend, and the feed's polling covers the gap.
    this.retry(this.failures === 1 ? 0 : this.backoffMs());
  }

  private recycle(client: pg.Client): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => {});
    if (this.park()) return;
    this.connecting = this.connect();
  }

  private retry(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.park()) return;
      this.connecting = this.connect();
    }, delayMs);
    this.retryTimer.unref();
  }

  private backoffMs(): number {
    return Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures - 1, 10));
  }
}
