import { GraphQLError } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../schema/context.js';
import { StatementCancelledError } from '../../db/cancellable-driver.js';
import {
  isDatabaseUnavailable,
  NUMERIC_VALUE_OUT_OF_RANGE,
  QUERY_CANCELED,
  sqlState,
  UNDEFINED_TABLE,
} from '../../db/sql-state.js';
import { LakebaseConnectionError } from '../../lakebase/errors.js';
import { describeError, type ErrorCode } from '../../errors.js';
import { withVariableCode } from './validation-arguments.js';

/** pg-pool's error when no connection frees up within connectionTimeoutMillis (db/pool.ts). */
const POOL_TIMEOUT = 'timeout exceeded when trying to connect';

/** graphql-js' words when a leaf's value cannot be serialized (completeLeafValue), and DateTime's (scalars.ts). */
const NOT_REPRESENTABLE = /^(Int|Float|String|Boolean|ID|DateTime) cannot represent /;

/** A failure that is the data's or the load's doing, not a bug: what the client is told instead. */
interface KnownFailure {
  message: string;
  code?: ErrorCode;
  /**
   * Said in the log: at warn level what the operator can act on, at info level what only explains a line
   * (a cancelled statement); the data's failures are not logged.
   */
  log?: { level: 'warn' | 'info'; message: string; detail?: string };
}

/** The same warning at most once in this long: an outage fails every request, and one line says it. */
const REPEATED_WARNING_MS = 10_000;

function knownFailure(original: Error): KnownFailure | undefined {
  // A value the type cannot carry (a double column's NaN or Infinity in a Float, a timestamp's 'infinity' in a
  // DateTime). graphql-js says so; yoga's
  // executor rethrows it as a plain Error, which read as an internal error on a document's first request.
  if (NOT_REPRESENTABLE.test(original.message)) return { message: original.message };
  // Postgres computes in double precision and refuses a sum past its range (two fares of 1e308) rather than
  // answer Infinity, which a Float could not carry either.
  if (sqlState(original) === NUMERIC_VALUE_OUT_OF_RANGE) {
    return {
      message: `the answer is beyond what a Float can carry: the database refused to compute it (${original.message})`,
    };
  }
  // The client went away and its statement was cancelled (db/cancellable-driver.ts): nobody reads this answer.
  if (original instanceof StatementCancelledError) {
    return { message: original.message, log: { level: 'info', message: original.message } };
  }
  // statement_timeout (PG_STATEMENT_TIMEOUT_MS) stopped a statement: the question is too big for the setting, which
  // a BI user could not tell from a gateway bug when it read as an internal error.
  if (sqlState(original) === QUERY_CANCELED) {
    return {
      message:
        'the database stopped this statement when it ran past PG_STATEMENT_TIMEOUT_MS: ask for less ' +
        '(a narrower filter, a coarser time bucket, fewer groups), or raise the setting',
      code: 'STATEMENT_TIMEOUT' satisfies ErrorCode,
      log: { level: 'warn', message: 'a statement ran past PG_STATEMENT_TIMEOUT_MS and was stopped' },
    };
  }
  // The database is down, restarting, or refuses the login: the client should retry later (/ready says why), which
  // it could not tell from a bug when this read as an internal error.
  if (original instanceof LakebaseConnectionError || isDatabaseUnavailable(original)) {
    return {
      message: 'the database cannot be reached right now; retry shortly (the gateway logs why, and /ready reports it)',
      code: 'DATABASE_UNAVAILABLE' satisfies ErrorCode,
      // With its cause: pg-pool's "Connection terminated due to connection timeout" wraps the step at fault.
      log: {
        level: 'warn',
        message: 'database unavailable; requests fail until it answers',
        detail: describeError(original),
      },
    };
  }
  // The synced table before the first sync has created it (or after an operator dropped it), or the gateway's
  // own schema dropped under a running gateway: the operator's to fix, and no bug. The log names the relation;
  // the client is told what it can do, not the database's words (as for every other database error).
  if (sqlState(original) === UNDEFINED_TABLE) {
    return {
      message:
        'a table this answer needs does not exist: before the first sync creates the synced table there are no ' +
        'trips to read (syncStatus says where the sync stands); the gateway logs which table',
      code: 'TABLE_MISSING' satisfies ErrorCode,
      log: { level: 'warn', message: 'a table the gateway reads does not exist', detail: original.message },
    };
  }
  // pg-pool's wait for a connection ran out: load, and a client may retry; the pool may be too small.
  if (original.message === POOL_TIMEOUT) {
    return {
      message:
        'the database had no free connection in time: every one of PG_POOL_MAX stayed busy while this request waited; retry shortly',
      code: 'DATABASE_BUSY' satisfies ErrorCode,
      log: { level: 'warn', message: 'no free database connection in time (PG_POOL_MAX)' },
    };
  }
  return undefined;
}

/**
 * Errors the caller caused (GraphQLError: bad arguments, cursors, limits) pass through (a variable graphql-js
 * could not coerce gets its code: withVariableCode), and so do the data's and the load's (knownFailure), with
 * what happened. Anything else is a bug or an outage: it is logged with the request id and replaced by a
 * generic error that carries the same id, so a user's bug report can be matched to the log line without
 * leaking internals (SQL, hosts).
 */
export function useErrorMasking(): Plugin<GatewayContext> {
  /** When each warning was last logged, and how many were left out since. */
  const warned = new Map<string, { at: number; leftOut: number }>();
  /**
   * Info lines of one result, by message: one line each, with how many errors said it. An abandoned page of
   * 1,000 trips with their zones failed every zone field with the same cancellation, and logged 2,000 lines.
   */
  type InfoLines = Map<string, { fields: Record<string, unknown>; count: number }>;
  const log = (context: GatewayContext, error: GraphQLError, known: KnownFailure['log'] & object, infos: InfoLines) => {
    const fields = { requestId: context.requestId, path: error.path?.join('.'), detail: known.detail };
    if (known.level === 'info') {
      const same = infos.get(known.message);
      if (same) same.count += 1;
      else infos.set(known.message, { fields, count: 1 });
      return;
    }
    const now = Date.now();
    const last = warned.get(known.message);
    if (last && now - last.at < REPEATED_WARNING_MS) {
      last.leftOut += 1;
      return;
    }
    warned.set(known.message, { at: now, leftOut: 0 });
    context.logger.warn(known.message, { ...fields, ...(last?.leftOut ? { sameWarningsLeftOut: last.leftOut } : {}) });
  };
  const mask = (context: GatewayContext, error: GraphQLError, infos: InfoLines): GraphQLError => {
    const original = error.originalError;
    if (!original || original instanceof GraphQLError) return withVariableCode(error);
    const known = knownFailure(original);
    if (known) {
      if (known.log) log(context, error, known.log, infos);
      return new GraphQLError(known.message, {
        nodes: error.nodes,
        path: error.path,
        ...(known.code ? { extensions: { code: known.code } } : {}),
      });
    }
    context.logger.error('resolver failed', {
      requestId: context.requestId,
      path: error.path?.join('.'),
      error: original.message,
      stack: original.stack,
    });
    return new GraphQLError('Internal error; it was logged with this request id.', {
      path: error.path,
      nodes: error.nodes,
      extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId: context.requestId },
    });
  };
  type DonePayload = Parameters<Parameters<typeof handleStreamOrSingleExecutionResult<GatewayContext>>[1]>[0];
  const onDone = ({ args, result, setResult }: DonePayload) => {
    if (!result.errors?.length) return;
    const context = args.contextValue;
    const infos: InfoLines = new Map();
    setResult({ ...result, errors: result.errors.map((error) => mask(context, error, infos)) });
    for (const [message, { fields, count }] of infos) {
      context.logger.info(message, count > 1 ? { ...fields, sameErrorsInResult: count } : fields);
    }
  };
  // The same hooks for every request: the context comes with each payload.
  const handleDone = (payload: Parameters<typeof handleStreamOrSingleExecutionResult<GatewayContext>>[0]) =>
    handleStreamOrSingleExecutionResult(payload, onDone);
  const executeHooks = { onExecuteDone: handleDone };
  const subscribeHooks = { onSubscribeResult: handleDone };
  return {
    onExecute: () => executeHooks,
    onSubscribe: () => subscribeHooks,
  };
}
