/**
 * The grid's live layer: one resumable stream of trip changes for a filter.
 *
 * The page thinks in changes (INSERT / UPDATE / DELETE of a trip): the shape
 * of Subscription.tripChanges, which this adapter reads. For a filtered
 * stream a row entering the filter is an INSERT, one leaving it a DELETE.
 *
 * Exactly once across reconnects: every batch carries a cursor; after any end
 * of the stream (network error, gateway restart, SHUTTING_DOWN or
 * SUBSCRIBER_TOO_SLOW error) it subscribes again with after = the cursor of
 * the last batch it delivered, so nothing is missed and nothing repeats.
 */
import { print, type ExecutionResult } from 'graphql';
import { sse } from '../client';
import { RETRY_MS } from '../failures';
import type { TripChangesSubscription, TripFilter } from '../gql/graphql';
import { TripChangesSubscription as TripChangesDocument } from '../operations';

import { unsentByIndex } from '../unsent-values';
import type { TripChange } from './trip-change';

export type { TripChange, TripChangeKind } from './trip-change';

/** connected: streaming; reconnecting: the stream ended, trying again; behind: the gateway said we fell behind and we are catching up. */
/** `stopped`: the table has no stream (its filter is refused, or does not read); the others come from the stream. */
export type LiveState = 'connecting' | 'connected' | 'reconnecting' | 'behind' | 'stopped';

export interface LiveOptions {
  filter: TripFilter | null;
  /** Where to start: the stream position the page was read at; null = from now. */
  after: string | null;
  onChanges(changes: TripChange[], cursor: string): void;
  onState(state: LiveState, detail?: string): void;
  /** The stream cannot resume from the page's cursor (CURSOR_EXPIRED): the page must be read again. */
  onExpired(): void;
}

// Our own retry loop (below) resumes from the last cursor; graphql-sse's would resend the original `after`.
const QUERY = print(TripChangesDocument);

function toChanges(result: TripChangesSubscription): { changes: TripChange[]; cursor: string } {
  const batch = result.tripChanges;
  return {
    cursor: batch.cursor,
    changes: batch.changes.map((change) => ({ kind: change.kind, tripId: change.tripId, trip: change.trip ?? null })),
  };
}

interface StreamError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; cursor?: string | null; argument?: string };
}

/** Starts streaming; returns stop(). */
export function subscribeTripChanges(options: LiveOptions): () => void {
  let cursor = options.after;
  let stopped = false;
  let dispose: (() => void) | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const connect = () => {
    if (stopped) return;
    let ended = false;
    const end = (state: LiveState, detail: string) => {
      if (ended || stopped) return;
      ended = true;
      dispose?.();
      options.onState(state, detail);
      failures += 1;
      // Quick first retry (a restart takes a moment), then back off up to 5 s.
      retryTimer = setTimeout(connect, Math.min(5000, 250 * 2 ** Math.min(failures - 1, 5)));
    };
    dispose = sse.subscribe<TripChangesSubscription>(
      { query: QUERY, variables: { filter: options.filter, after: cursor } },
      {
        next: (result: ExecutionResult<TripChangesSubscription, unknown>) => {
          if (ended || stopped) return;
          const errors = result.errors as readonly StreamError[] | undefined;
          // An event with data and errors carries rows with a value the gateway could not send (a NaN fare): the
          // rows are delivered, with that cell empty. Taken for the stream's end, it was asked again from the
          // same cursor, got the same event, and so on forever.
          if (errors?.length && !result.data) {
            const error = errors[0]!;
            // A server-side termination says where to resume; our own cursor is that position or, if none yet, its.
            if (cursor === null && error.extensions?.cursor) cursor = error.extensions.cursor;
            const code = error.extensions?.code;
            // Our own cursor refused as not a cursor at all: a gateway of another version (a rollback while this
            // tab stayed open) cannot read it. Asking again from it would be refused forever (every 5 s), and
            // starting without it would skip what came in between; re-read as for an expired one.
            const refusedCursor =
              code === 'BAD_USER_INPUT' && error.extensions?.argument === 'after' && cursor !== null;
            if (code === 'CURSOR_EXPIRED' || refusedCursor) {
              ended = true;
              dispose?.();
              // A refused cursor after a rolling deploy may be refused again (a page read by one version, the
              // stream by another): read again after a pause, not in a tight loop.
              if (refusedCursor) retryTimer = setTimeout(() => stopped || options.onExpired(), RETRY_MS);
              else options.onExpired();
              return;
            }
            end(code === 'SUBSCRIBER_TOO_SLOW' ? 'behind' : 'reconnecting', error.message);
            return;
          }
          if (!result.data) return;
          const { changes, cursor: next } = toChanges(result.data);
          for (const [index, fields] of unsentByIndex(errors ?? [], ['tripChanges', 'changes'])) {
            const change = changes[index];
            if (change?.trip) change.trip = { ...change.trip, unsent: fields };
          }
          cursor = next;
          failures = 0;
          options.onState('connected');
          if (changes.length > 0) options.onChanges(changes, next);
        },
        error: (error: unknown) =>
          end('reconnecting', error instanceof Error ? error.message : 'the live stream was interrupted'),
        complete: () => end('reconnecting', 'the live stream ended'),
      },
    );
  };

  options.onState('connecting');
  connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    dispose?.();
  };
}
