/**
 * The gateway's view of the sync status, in front of any SyncSource:
 * - get(): cached for a few seconds, and concurrent callers share one read, so
 *   many clients cost one API call per TTL (failures are cached too, so an
 *   API answering 429 is not hammered);
 * - subscribe(): an async iterator that yields the status now and then
 *   whenever it changes, polling only while at least one subscriber listens;
 * - refresh(): starts a pipeline update and returns the fresh status.
 */
import { createLogger, type Logger } from '../logger.js';
import type { SyncSource } from './source.js';
import type { SyncRefresh, SyncStatus } from './status.js';
import { toSyncStatus, unknownStateReporter } from './to-sync-status.js';

export interface CachedSyncStatusOptions {
  /** SYNC_STATUS_CACHE_SECONDS. */
  ttlSeconds: number;
  /** How often subscriptions poll (through the cache). Default: the TTL, at least 1 s. */
  pollIntervalMs?: number;
  now?: () => Date;
  /** Poll failures and unknown states (each distinct one once). */
  logger?: Pick<Logger, 'warn'>;
}

interface CacheEntry {
  promise: Promise<SyncStatus>;
  /** Undefined while the read is in flight. */
  settledAt: number | undefined;
}

interface Listener {
  /** Fingerprint of the last status handed to this listener. */
  lastFingerprint: string | undefined;
  /** Newest status not yet taken: a slow subscriber skips to the latest. */
  pending: SyncStatus | undefined;
  /** Pending next() calls. */
  waiters: Array<() => void>;
  closed: boolean;
}

/** What counts as a change: everything but the read time and what is derived from it. */
function fingerprint(status: SyncStatus): string {
  const { checkedAt: _checkedAt, stalenessSeconds: _staleness, ...rest } = status;
  return JSON.stringify(rest);
}

function wakeAll(listener: Listener): void {
  for (const wake of listener.waiters.splice(0)) wake();
}

export class CachedSyncStatus {
  private entry: CacheEntry | undefined;
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastPollError: string | undefined;
  private readonly ttlMs: number;
  private readonly pollIntervalMs: number;
  private readonly now: () => Date;
  private readonly logger: Pick<Logger, 'warn'>;
  private readonly reportUnknownState: (raw: string | undefined) => void;

  constructor(
    private readonly source: SyncSource,
    options: CachedSyncStatusOptions,
  ) {
    this.ttlMs = options.ttlSeconds * 1000;
    this.pollIntervalMs = options.pollIntervalMs ?? Math.max(this.ttlMs, 1000);
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger ?? createLogger();
    this.reportUnknownState = unknownStateReporter(this.logger);
  }

  get sourceKind(): string {
    return this.source.kind;
  }

  /** True while subscriptions keep a poll timer running. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** The status, from the cache when it settled less than `maxAgeMs` (the TTL) ago. */
  get(maxAgeMs = this.ttlMs): Promise<SyncStatus> {
    const entry = this.entry;
    if (entry && (entry.settledAt === undefined || this.now().getTime() - entry.settledAt < maxAgeMs)) {
      return entry.promise;
    }
    const fresh: CacheEntry = { promise: this.read(), settledAt: undefined };
    const settle = () => {
      fresh.settledAt = this.now().getTime();
    };
    fresh.promise.then(settle, settle);
    this.entry = fresh;
    return fresh.promise;
  }

  /** Drops the cached status; the next get() reads the source. */
  invalidate(): void {
    if (this.entry?.settledAt !== undefined) this.entry = undefined;
  }

  async refresh(options: { fullRefresh: boolean }): Promise<SyncRefresh> {
    const { updateId } = await this.source.startUpdate(options);
    // The update changed the state: a cached status from before it would be wrong.
    this.entry = undefined;
    const status = await this.get();
    if (this.active) void this.poll();
    return { updateId: updateId ?? null, status };
  }

  /**
   * Yields the current status, then each changed status. Ending the iteration
   * (break, return(), or the signal) unsubscribes; the last one out stops polling.
   */
  subscribe(signal?: AbortSignal): AsyncIterableIterator<SyncStatus> {
    const listener: Listener = { lastFingerprint: undefined, pending: undefined, waiters: [], closed: false };
    const close = () => {
      if (listener.closed) return;
      listener.closed = true;
      this.listeners.delete(listener);
      wakeAll(listener);
      if (this.listeners.size === 0) this.stopPolling();
    };
    signal?.addEventListener('abort', close, { once: true });
    this.listeners.add(listener);
    this.startPolling();
    void this.poll();

    const iterator: AsyncIterableIterator<SyncStatus> = {
      next: async () => {
        while (!listener.closed && listener.pending === undefined) {
          await new Promise<void>((resolve) => listener.waiters.push(resolve));
        }
        const value = listener.pending;
        if (listener.closed || value === undefined) return { done: true, value: undefined };
        listener.pending = undefined;
        return { done: false, value };
      },
      return: async () => {
        close();
        signal?.removeEventListener('abort', close);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** One poll for all subscribers (concurrent calls share it). Exposed for tests. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    let status: SyncStatus;
    try {
      // A poll every TTL found the entry its previous poll had cached a moment after it started, still a little
      // under the TTL old: it took that, and subscribers saw a change up to two TTLs late (10 s by default).
      status = await this.get(Math.min(this.ttlMs, this.pollIntervalMs / 2));
      this.lastPollError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Logged when it starts or changes, not on every poll of a lasting outage.
      if (message !== this.lastPollError) this.logger.warn(`sync status poll failed: ${message}`);
      this.lastPollError = message;
      return;
    }
    const current = fingerprint(status);
    for (const listener of this.listeners) {
      if (listener.lastFingerprint === current) continue;
      listener.lastFingerprint = current;
      listener.pending = status;
      wakeAll(listener);
    }
  }

  private startPolling(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.poll(), this.pollIntervalMs);
    // Subscriptions keep their HTTP connections open anyway; the timer alone must not keep the process alive.
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async read(): Promise<SyncStatus> {
    const info = await this.source.getSyncedTable();
    return toSyncStatus(info, this.now(), { onUnknownState: this.reportUnknownState });
  }
}
