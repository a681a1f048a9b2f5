import type { ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-sse';
import type pg from 'pg';
import { listen, type Listening } from '../../src/server/http/listen.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/** A gateway on a real HTTP port, for real graphql-sse clients. */
export interface LiveGateway extends TestGateway {
  http: Listening;
  /** http://127.0.0.1:port */
  origin: string;
  client(mode: Transport): Client;
}

export type Transport = 'distinct' | 'single';

export async function startLiveGateway(
  label: string,
  env: Record<string, string> = {},
  options: Parameters<typeof startTestGateway>[2] = {},
): Promise<LiveGateway> {
  const gateway = await startTestGateway(label, env, options);
  const http = await listen(gateway.app.gateway, 0, '127.0.0.1');
  const origin = new URL(http.url).origin;
  const clients: Client[] = [];
  return {
    ...gateway,
    http,
    origin,
    client(mode) {
      const client = createClient({
        url: mode === 'single' ? `${origin}/graphql/stream` : `${origin}/graphql`,
        singleConnection: mode === 'single',
        retryAttempts: 0,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.dispose();
      await http.close();
      await gateway.close();
    },
  };
}

export const TRIPS_ADDED = `subscription Live($filter: TripFilter, $after: String) {
  tripsAdded(filter: $filter, after: $after) { cursor trips { tripId pickupZip fareAmount } }
}`;

export interface BatchEvent {
  cursor: string;
  ids: string[];
  /** The trips as received, with whatever the query selected. */
  trips: ({ tripId: string } & Record<string, unknown>)[];
}

type GraphQLErrorShape = { message: string; extensions?: Record<string, unknown> };

/**
 * Everything one graphql-sse subscription received, in order: its batches,
 * its errors, and how it ended. TripStream and ChangeStream say what a batch is.
 */
abstract class SubscriptionRecord<Data, Batch extends { cursor: string }> {
  readonly batches: Batch[] = [];
  readonly errors: GraphQLErrorShape[] = [];
  transportError: unknown;
  completed = false;
  private readonly stop: () => void;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    client: Client,
    query: string,
    variables: Record<string, unknown>,
    private readonly timeoutMs: number,
  ) {
    // graphql-sse calls back only once connected, after the subclass's fields are in place.
    this.stop = client.subscribe<Data>(
      { query, variables },
      {
        next: (result: ExecutionResult<Data>) => {
          if (this.closed) return;
          for (const error of result.errors ?? []) {
            this.errors.push({ message: error.message, extensions: error.extensions as Record<string, unknown> });
          }
          const batch = result.data ? this.batchOf(result.data) : undefined;
          if (batch) {
            this.batches.push(batch);
            this.received(batch);
          }
          this.changed();
        },
        error: (error: unknown) => {
          this.transportError = error;
          this.changed();
        },
        complete: () => {
          this.completed = true;
          this.changed();
        },
      },
    );
  }

  /** The batch in one result's data. */
  protected abstract batchOf(data: Data): Batch | undefined;
  protected abstract received(batch: Batch): void;
  /** What has arrived so far, for failure messages. */
  protected abstract progress(): string;

  get lastCursor(): string | undefined {
    return this.batches.at(-1)?.cursor;
  }

  /** Waits until `condition` holds; fails (never hangs) after the timeout, saying what it waited for. */
  async until(condition: () => boolean, what: string, timeoutMs = this.timeoutMs): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}: ${this.progress()}, errors ${JSON.stringify(this.errors)}, completed ${this.completed}, transport ${String(this.transportError)}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (!condition() && !this.completed && this.transportError === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        if (condition()) resolve();
        else
          reject(
            new Error(
              `stream ended while waiting for ${what}: ${JSON.stringify(this.errors)} ${String(this.transportError)}`,
            ),
          );
      };
      this.waiters.add(check);
    });
  }

  /** The first event: it arrives at once and carries the starting cursor. */
  started(timeoutMs?: number): Promise<void> {
    return this.until(() => this.batches.length > 0, 'the first event', timeoutMs);
  }

  untilEnded(timeoutMs?: number): Promise<void> {
    return this.until(() => this.completed || this.transportError !== undefined, 'the end of the stream', timeoutMs);
  }

  /**
   * Like a real client that stops reading: events still in flight when the
   * stream is disposed are not processed, so what was received and
   * `lastCursor` stay a consistent pair to resume from.
   */
  close(): void {
    this.closed = true;
    this.stop();
  }

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

type TripsAddedData = { tripsAdded: { cursor: string; trips: BatchEvent['trips'] } };

/** Everything one tripsAdded subscription received, in order. */
export class TripStream extends SubscriptionRecord<TripsAddedData, BatchEvent> {
  /** Every row id received, in order. */
  readonly ids: string[] = [];

  constructor(client: Client, variables: Record<string, unknown> = {}, query = TRIPS_ADDED) {
    super(client, query, variables, 30_000);
  }

  protected batchOf(data: TripsAddedData): BatchEvent | undefined {
    const batch = data.tripsAdded;
    return batch
      ? { cursor: batch.cursor, ids: batch.trips.map((trip) => trip.tripId), trips: batch.trips }
      : undefined;
  }

  protected received(batch: BatchEvent): void {
    for (const id of batch.ids) this.ids.push(id);
  }

  protected progress(): string {
    return `${this.ids.length} rows, ${this.batches.length} batches`;
  }

  untilRows(count: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.ids.length >= count, `${count} rows`, timeoutMs);
  }
}

/**
 * Rows as the sync pipeline writes them into the synced table. Columns are a
 * function of the id, so tests can compute with SQL which rows a filter selects.
 */
export async function insertTrips(
  pool: pg.Pool | pg.PoolClient,
  ids: readonly (number | bigint)[],
  options: { onConflictDoNothing?: boolean } = {},
): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `INSERT INTO "default".trips_synced
       (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
     SELECT i,
            timestamptz '2024-01-01 00:00:00+00' + (i % 1000) * interval '1 minute' + (i % 7) * interval '1 microsecond',
            timestamptz '2024-01-01 00:20:00+00' + (i % 1000) * interval '1 minute',
            CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 9) * 1.5 END,
            CASE WHEN i % 11 = 0 THEN NULL ELSE 2.5 + (i % 15) END,
            CASE WHEN i % 17 = 0 THEN NULL ELSE (ARRAY[10001, 10011, 10019, 11371, 11430])[i % 5 + 1] END,
            (ARRAY[10001, 10022, 11430])[i % 3 + 1]
       FROM unnest($1::int8[]) AS i
     ${options.onConflictDoNothing ? 'ON CONFLICT (id) DO NOTHING' : ''}`,
    [ids.map(String)],
  );
}

/** Ids of rows after `afterId` that match `where`, in order: what a subscriber must have received. */
export async function expectedIds(pool: pg.Pool, afterId: number | bigint, where = 'true'): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT t.id::text AS id FROM "default".trips_synced AS t WHERE t.id > $1 AND (${where}) ORDER BY t.id`,
    [String(afterId)],
  );
  return rows.map((row) => row.id);
}

/** Inserts ids first..last at about `perSecond` rows a second, one transaction per row or per small group. */
export async function insertAtRate(pool: pg.Pool, first: number, count: number, perSecond: number): Promise<void> {
  const started = Date.now();
  // Groups of rows per commit at high rates, as a sync commits batches; one row per commit at low rates.
  const perCommit = Math.max(1, Math.floor(perSecond / 50));
  for (let done = 0; done < count; done += perCommit) {
    const ids = Array.from({ length: Math.min(perCommit, count - done) }, (_, i) => first + done + i);
    await insertTrips(pool, ids);
    const due = started + ((done + ids.length) / perSecond) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const TRIP_CHANGES = `subscription Changes($filter: TripFilter, $after: String) {
  tripChanges(filter: $filter, after: $after) {
    cursor
    changes { kind tripId trip { tripId fareAmount pickupZip tripDistance } }
  }
}`;

export interface ReceivedChange {
  kind: 'INSERT' | 'UPDATE' | 'DELETE';
  tripId: string;
  trip: { tripId: string; fareAmount: number | null; pickupZip: number | null; tripDistance: number | null } | null;
}

type TripChangesData = { tripChanges: { cursor: string; changes: ReceivedChange[] } };

/** Everything one tripChanges subscription received, in order. */
export class ChangeStream extends SubscriptionRecord<TripChangesData, { cursor: string; changes: ReceivedChange[] }> {
  readonly changes: ReceivedChange[] = [];

  constructor(client: Client, variables: Record<string, unknown> = {}) {
    super(client, TRIP_CHANGES, variables, 60_000);
  }

  protected batchOf(data: TripChangesData) {
    return data.tripChanges ? { cursor: data.tripChanges.cursor, changes: data.tripChanges.changes } : undefined;
  }

  protected received(batch: { changes: ReceivedChange[] }): void {
    this.changes.push(...batch.changes);
  }

  protected progress(): string {
    return `${this.changes.length} changes`;
  }
}

/**
 * Applies changes to a view (id → fare, pickup zip, distance), failing on any change
 * that does not fit the view: an INSERT of a row held, an UPDATE or DELETE of one
 * not held, an UPDATE that changes nothing (a repeat). Exactly-once means none occur.
 */
export function applyChanges(view: Map<string, string>, changes: readonly ReceivedChange[]): string[] {
  const problems: string[] = [];
  for (const change of changes) {
    const held = view.has(change.tripId);
    const value = change.trip
      ? JSON.stringify([change.trip.fareAmount, change.trip.pickupZip, change.trip.tripDistance])
      : null;
    if (change.kind === 'INSERT') {
      if (held) problems.push(`INSERT of held ${change.tripId}`);
      view.set(change.tripId, value!);
    } else if (change.kind === 'UPDATE') {
      if (!held) problems.push(`UPDATE of missing ${change.tripId}`);
      else if (view.get(change.tripId) === value) problems.push(`UPDATE without change of ${change.tripId}`);
      view.set(change.tripId, value!);
    } else {
      if (!held) problems.push(`DELETE of missing ${change.tripId}`);
      view.delete(change.tripId);
    }
  }
  return problems;
}

/** The view as SQL sees it: id → [fare, pickup zip, distance] of the rows matching `where`. */
export async function viewInSql(pool: pg.Pool, where = 'true'): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; fare: number | null; zip: number | null; distance: number | null }>(
    `SELECT t.id::text AS id, t.fare_amount AS fare, t.pickup_zip AS zip, t.trip_distance AS distance
       FROM "default".trips_synced AS t WHERE ${where} ORDER BY t.id`,
  );
  return new Map(rows.map((row) => [row.id, JSON.stringify([row.fare, row.zip, row.distance])]));
}

/**
 * A real stream cursor of `gw` taken apart, to forge others from: its snapshot's xmin, and `withSnapshot`,
 * which seals the same stream's cursor around any snapshot text.
 */
export async function cursorForger(
  gw: TestGateway,
): Promise<{ xmin: bigint; xmax: bigint; withSnapshot(text: string): string }> {
  const { body } = await gw.query<{ trips: { streamCursor: string } }>('{ trips(first: 1) { streamCursor } }');
  const [kind, version, stream, low] = JSON.parse(
    Buffer.from(body.data!.trips.streamCursor, 'base64url').toString(),
  ) as [string, number, string, string];
  return {
    xmin: BigInt(low.split(':')[0]!),
    xmax: BigInt(low.split(':')[1]!),
    withSnapshot: (text) => Buffer.from(JSON.stringify([kind, version, stream, text])).toString('base64url'),
  };
}
