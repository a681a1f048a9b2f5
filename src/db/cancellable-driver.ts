import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type pg from 'pg';
import { sendCancelRequest, type BackendKey, type ServerAddress } from './cancel-request.js';
import { QUERY_CANCELED, sqlState } from './sql-state.js';

/**
 * A statement stopped because the request that asked for it was abandoned by
 * its client (a closed tab, a BI tool's timeout, a new filter typed over the
 * old). Nobody reads the answer; the error only unwinds the resolver.
 */
export class StatementCancelledError extends Error {
  override readonly name = 'StatementCancelledError';
  constructor(reason: 'before it started' | 'while it ran') {
    super(`the client went away, so its statement was cancelled ${reason}`);
  }
}

/** Statements that run on behalf of one request, and that request's abort signal (see `cancellableBy`). */
const requestSignals = new WeakMap<CompiledQuery, AbortSignal>();

/**
 * `compiled`, to be cancelled when `signal` aborts: the statement is then not
 * sent, or, when it is running, the server is asked to cancel it. A copy,
 * because compiled statements are shared between requests (statement-memo.ts).
 * Only statements that answer one request take a signal; work shared between
 * requests (the live feed, rollup builds, the change signal) must never be
 * stopped by one client leaving.
 */
export function cancellableBy<Row>(compiled: CompiledQuery<Row>, signal: AbortSignal | undefined): CompiledQuery<Row> {
  if (!signal) return compiled;
  const copy: CompiledQuery<Row> = { ...compiled };
  requestSignals.set(copy, signal);
  return copy;
}

/** How long a connection waits for its cancel to be confirmed before it is closed instead of reused. */
const CANCEL_CONFIRM_MS = 5_000;

/** pg's Client after login: the key and where it connected (not in pg's type definitions). */
interface ConnectedClient {
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
}

/**
 * One pooled connection as Kysely sees it. It is Kysely's own Postgres
 * connection (the same statement call and result shape) plus cancellation.
 */
class CancellableConnection implements DatabaseConnection {
  readonly client: pg.PoolClient;
  /** A cancel sent for this connection and not yet confirmed; nothing else may run on it until it is. */
  #cancel: Promise<void> | undefined;
  /** Set when a cancel could not be confirmed: the connection is closed, not returned to the pool. */
  unsafe = false;

  constructor(client: pg.PoolClient) {
    this.client = client;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    await this.settled();
    const signal = requestSignals.get(compiled);
    if (signal?.aborted) throw new StatementCancelledError('before it started');
    const onAbort = signal ? () => this.#startCancel() : undefined;
    if (onAbort) signal!.addEventListener('abort', onAbort, { once: true });
    try {
      const { command, rowCount, rows } = await this.client.query(compiled.sql, [...compiled.parameters]);
      return {
        numAffectedRows:
          command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
            ? BigInt(rowCount ?? 0)
            : undefined,
        rows: (rows ?? []) as R[],
      };
    } catch (error) {
      if (signal?.aborted && sqlState(error) === QUERY_CANCELED) throw new StatementCancelledError('while it ran');
      throw error;
    } finally {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
    }
  }

  // eslint-disable-next-line require-yield -- an iterator that refuses at once: the gateway never streams.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streamQuery: the gateway reads every result whole; streaming is not configured');
  }

  /** Waits for a cancel in flight, so that it cannot land on the next statement sent on this connection. */
  async settled(): Promise<void> {
    if (this.#cancel) await this.#cancel;
  }

  #startCancel(): void {
    const client = this.client as unknown as ConnectedClient;
    const { processID, secretKey, host, port } = client;
    if (processID == null || secretKey == null || host === undefined || port === undefined) return;
    const key: BackendKey = { processID, secretKey };
    const server: ServerAddress = { host, port };
    const cancel: Promise<void> = sendCancelRequest(server, key, CANCEL_CONFIRM_MS)
      .catch(() => {
        this.unsafe = true;
      })
      .finally(() => {
        if (this.#cancel === cancel) this.#cancel = undefined;
      });
    this.#cancel = cancel;
  }
}

/**
 * Kysely's Postgres driver, with statements that a request's abort signal
 * cancels (`cancellableBy`). Without it, a statement whose client went away
 * kept running to its end or to PG_STATEMENT_TIMEOUT_MS, holding a pooled
 * connection: ten abandoned slow requests took a pool of ten for 30 s.
 */
export class CancellableDriver implements Driver {
  readonly #pool: pg.Pool;
  readonly #connections = new WeakMap<pg.PoolClient, CancellableConnection>();

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const client = await this.#pool.connect();
    let connection = this.#connections.get(client);
    if (!connection) {
      connection = new CancellableConnection(client);
      this.#connections.set(client, connection);
    }
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // As Kysely's own Postgres driver words it.
    const parts = ['start transaction'];
    if (settings.isolationLevel) parts.push(`isolation level ${settings.isolationLevel}`);
    if (settings.accessMode) parts.push(settings.accessMode);
    await connection.executeQuery(CompiledQuery.raw(parts.length > 1 ? parts.join(' ') : 'begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const cancellable = connection as CancellableConnection;
    await cancellable.settled();
    if (cancellable.unsafe) {
      // A cancel that may still arrive must not hit another request's statement: close the connection.
      this.#connections.delete(cancellable.client);
      cancellable.client.release(new Error('a cancel request was not confirmed; the connection is closed'));
    } else {
      cancellable.client.release();
    }
  }

  async destroy(): Promise<void> {
    await this.#pool.end();
  }
}
