/** Helpers for tests of the local sync pipeline (src/dev/pipeline). */
import pg from 'pg';
import { pipelineNames, relations, type PipelineNames } from '../../src/dev/pipeline/names.js';
import { parseSyncNotification, SYNC_NOTIFY_CHANNEL, type SyncNotification } from '../../src/sync/sync-notification.js';

let counter = 0;

/** Fresh source/synced schemas per test, so tests in one database never share tables. */
export function uniqueNames(label: string, overrides: Partial<PipelineNames> = {}): PipelineNames {
  counter++;
  return pipelineNames({
    sourceSchema: `src_${label}_${counter}`,
    syncedSchema: `syn_${label}_${counter}`,
    ...overrides,
  });
}

/** Rows in the source missing from the synced table and vice versa (EXCEPT both ways over all columns). */
export async function tableDifference(db: pg.Pool, names: PipelineNames): Promise<{ missing: number; extra: number }> {
  const r = relations(names);
  const { rows } = await db.query<{ missing: string; extra: string }>(
    `SELECT (SELECT count(*) FROM (SELECT * FROM ${r.source} EXCEPT SELECT * FROM ${r.synced}) m) AS missing,
            (SELECT count(*) FROM (SELECT * FROM ${r.synced} EXCEPT SELECT * FROM ${r.source}) e) AS extra`,
  );
  return { missing: Number(rows[0]?.missing), extra: Number(rows[0]?.extra) };
}

export async function countRows(db: pg.Pool, table: string): Promise<number> {
  const { rows } = await db.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
  return Number(rows[0]?.count);
}

export async function headVersion(db: pg.Pool, names: PipelineNames): Promise<number> {
  const { rows } = await db.query<{ v: string }>(`SELECT max(version) AS v FROM ${relations(names).commits}`);
  return Number(rows[0]?.v);
}

/**
 * Collects NOTIFYs on the sync channel for one synced table. `next` resolves
 * with the first notification (already received or future) matching.
 */
export class SyncListener {
  readonly received: SyncNotification[] = [];
  private waiters: { match: (n: SyncNotification) => boolean; resolve: (n: SyncNotification) => void }[] = [];

  private constructor(
    private readonly client: pg.Client,
    private readonly names: PipelineNames,
  ) {}

  static async start(url: string, names: PipelineNames): Promise<SyncListener> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const listener = new SyncListener(client, names);
    client.on('notification', (message) => listener.onMessage(message));
    await client.query(`LISTEN ${SYNC_NOTIFY_CHANNEL}`);
    return listener;
  }

  next(match: (n: SyncNotification) => boolean, timeoutMs = 20_000): Promise<SyncNotification> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching sync notification within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (n) => {
          clearTimeout(timer);
          resolve(n);
        },
      });
    });
  }

  /** Resolves once a sync notification reports the synced table at `version` or later. */
  syncedTo(version: number): Promise<SyncNotification> {
    return this.next((n) => n.event === 'sync' && n.version !== null && n.version >= version);
  }

  close(): Promise<void> {
    return this.client.end();
  }

  private onMessage(message: pg.Notification): void {
    const notification = parseSyncNotification(message.payload);
    if (
      !notification ||
      notification.schema !== this.names.syncedSchema ||
      notification.table !== this.names.syncedTable
    ) {
      return;
    }
    this.received.push(notification);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(notification)) return true;
      waiter.resolve(notification);
      return false;
    });
  }
}

/** Polls a condition (each poll is a query, not a clock assertion) until it holds. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  description: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${description}; last value ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await probe();
  }
  return last;
}
