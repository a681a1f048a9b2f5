import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type pg from 'pg';
import type { ConnectionOptions } from 'node:tls';
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

/**
 * How long past the server's own `statement_timeout` a statement may stay unanswered before its connection is
 * taken for dead. A stalled peer (a hung pooler or proxy, a frozen compute, a partition that drops packets
 * without a reset) answers nothing, not even the timeout error its server raised, and a request waited on it
 * for as long as the stall lasted: eight minutes in the audit.
 */
export const STALL_GRACE_MS = 5_000;

/**
 * The database answered nothing for a statement well past its statement_timeout; its connection was closed.
 * `ETIMEDOUT`, so that it is answered as the other ways of not reaching the database are (DATABASE_UNAVAILABLE).
 */
export class DatabaseStalledError extends Error {
  override readonly name = 'DatabaseStalledError';
  readonly code = 'ETIMEDOUT';
  constructor(statementTimeoutMs: number, graceMs: number) {
    super(
      `the database answered nothing for ${statementTimeoutMs + graceMs} ms (its statement timeout, ` +
        `${statementTimeoutMs} ms, plus ${graceMs} ms): the connection is taken for dead and closed`,
    );
  }
}

/**
 * `SET [LOCAL | SESSION] statement_timeout = N` and `RESET statement_timeout`: a rollup build turns the timeout
 * off for its transaction, and the vacuum after it for its session.
 */
const SET_TIMEOUT = /^\s*set\s+(local\s+|session\s+)?statement_timeout\s*(?:=|to)\s*'?(\d+)'?\s*;?\s*$/i;
const RESET_TIMEOUT = /^\s*reset\s+statement_timeout\s*;?\s*$/i;

/** pg's Client after login: the key and where it connected (not in pg's type definitions). */
interface ConnectedClient {
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
  /** The connection's TLS settings (pg keeps them here): the cancel goes the same way. */
  ssl?: boolean | ConnectionOptions;
}

/**
 * One pooled connection as Kysely sees it. It is Kysely's own Postgres
 * connection (the same statement call and result shape) plus cancellation.
 */
class CancellableConnection implements DatabaseConnection {
  readonly client: pg.PoolClient;
  /** A cancel sent for this connection and not yet confirmed; nothing else may run on it until it is. */
  #cancel: Promise<void> | undefined;
  /** Set when a cancel could not be confirmed or the server stalled: the connection is closed, not reused. */
  unsafe = false;
  /** The pool's statement_timeout, in ms; 0 is none. */
  readonly #sessionTimeoutMs: number;
  /** A `SET statement_timeout` in force on this connection until RESET. */
  #sessionOverrideMs: number | undefined;
  /** A `SET LOCAL statement_timeout` in force until the transaction ends. */
  #transactionTimeoutMs: number | undefined;

  readonly #stallGraceMs: number;

  constructor(client: pg.PoolClient, sessionTimeoutMs: number, stallGraceMs: number) {
    this.client = client;
    this.#sessionTimeoutMs = sessionTimeoutMs;
    this.#stallGraceMs = stallGraceMs;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    await this.settled();
    const signal = requestSignals.get(compiled);
    if (signal?.aborted) throw new StatementCancelledError('before it started');
    const onAbort = signal ? () => this.#startCancel() : undefined;
    if (onAbort) signal!.addEventListener('abort', onAbort, { once: true });
    // The statement's deadline follows the server's own timeout: a statement the server would stop gets a
    // grace period past it; one the server lets run (a rollup build's transaction) gets none.
    const timeoutMs = this.#transactionTimeoutMs ?? this.#sessionOverrideMs ?? this.#sessionTimeoutMs;
    let stalled = false;
    const stall =
      timeoutMs > 0
        ? setTimeout(() => {
            stalled = true;
            this.unsafe = true;
            // pg then fails the statement ("Connection terminated"), which unwinds to the error below.
            destroySocket(this.client);
          }, timeoutMs + this.#stallGraceMs)
        : undefined;
    try {
      const { command, rowCount, rows } = await this.client.query(compiled.sql, [...compiled.parameters]);
      this.#noteTimeout(compiled.sql);
      return {
        numAffectedRows:
          command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
            ? BigInt(rowCount ?? 0)
            : undefined,
        rows: (rows ?? []) as R[],
      };
    } catch (error) {
      if (stalled) throw new DatabaseStalledError(timeoutMs, this.#stallGraceMs);
      if (signal?.aborted && sqlState(error) === QUERY_CANCELED) throw new StatementCancelledError('while it ran');
      throw error;
    } finally {
      if (stall) clearTimeout(stall);
      if (onAbort) signal!.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Follows the statement timeout the gateway sets: `SET LOCAL` until the transaction ends (only this driver
   * begins and ends them), `SET` until `RESET`.
   */
  #noteTimeout(sql: string): void {
    if (sql.length > 64) return;
    const set = SET_TIMEOUT.exec(sql);
    if (set) {
      if (set[1]?.trim().toLowerCase() === 'local') this.#transactionTimeoutMs = Number(set[2]);
      else this.#sessionOverrideMs = Number(set[2]);
    } else if (RESET_TIMEOUT.test(sql)) {
      this.#sessionOverrideMs = undefined;
    } else if (sql === 'commit' || sql === 'rollback') {
      this.#transactionTimeoutMs = undefined;
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
    const ssl = client.ssl === true ? {} : (client.ssl ?? false);
    const cancel: Promise<void> = sendCancelRequest(server, key, CANCEL_CONFIRM_MS, ssl)
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

  readonly #sessionTimeoutMs: number;
  readonly #stallGraceMs: number;

  constructor(pool: pg.Pool, stallGraceMs = STALL_GRACE_MS) {
    this.#pool = pool;
    this.#sessionTimeoutMs = Number(pool.options.statement_timeout) || 0;
    this.#stallGraceMs = stallGraceMs;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const client = await this.#pool.connect();
    let connection = this.#connections.get(client);
    if (!connection) {
      connection = new CancellableConnection(client, this.#sessionTimeoutMs, this.#stallGraceMs);
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
      // A cancel that may still arrive must not hit another request's statement, and a stalled server may
      // answer late: close the connection.
      this.#connections.delete(cancellable.client);
      cancellable.client.release(
        new Error('a cancel was not confirmed or the server stalled; the connection is closed'),
      );
    } else {
      cancellable.client.release();
    }
  }

  async destroy(): Promise<void> {
    await this.#pool.end();
  }
}

/** Closes a connection's socket at once: `end()` would wait for a peer that answers nothing. */
export function destroySocket(client: pg.ClientBase): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
