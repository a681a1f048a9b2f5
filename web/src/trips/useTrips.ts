/**
 * The trips table's data: keyset pages of trips(orderBy:) in the table's
 * order plus the live stream, for one filter. The first page carries
 * TripConnection.streamCursor, the stream position it was read at; the stream
 * starts there, so every change after that read arrives exactly once.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { urqlClient } from '../client';
import { describeFailure, RETRY_MS } from '../failures';
import type { TripFilter } from '../gql/graphql';
import { subscribeTripChanges, type LiveState, type TripChange } from '../live/trip-changes';
import { TripsPageQuery } from '../operations';
import { isUnder, unsentByIndex } from '../unsent-values';
import { orderByOf, type SortKey } from './ordering';
import { TripWindow, type TripRow } from './trip-window';

export const PAGE_SIZE = 100;
/** Live rows a window keeps beyond its pages before it is read again from the first page (about 3 KB each). */
export const LIVE_ROWS_KEPT = 2_000;
/** The same for a window the reader scrolled past its first page (reading again takes them back to the top). */
export const LIVE_ROWS_KEPT_SCROLLED = 20_000;

export interface TripsState {
  rows: TripRow[];
  totalCount: number | null;
  hasNextPage: boolean;
  loading: boolean;
  error: string | null;
  live: LiveState;
  liveDetail: string | undefined;
  /** Increases with every live change applied (charts refresh on it). */
  changeCount: number;
  loadMore(): void;
}

/**
 * `enabled` false: the filter has fields that do not read (filters.ts); nothing is loaded until they are fixed.
 * `order`: one array per distinct order (as `filter`), since a new one reads everything again.
 */
export function useTrips(filter: TripFilter | null, order: readonly SortKey[], enabled = true): TripsState {
  // Bumped to re-render when the window's rows change (the window itself is mutable).
  const [, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState<{ state: LiveState; detail?: string }>({ state: 'connecting' });
  const [changeCount, setChangeCount] = useState(0);
  const windowRef = useRef(new TripWindow(order));
  const inFlight = useRef(false);
  const generation = useRef(0);
  /** The last page failed in a way a retry would repeat (bad input): the first page is not retried. */
  const finalFailure = useRef(false);

  /** Loads the next page; resolves with the first page's streamCursor (else null). */
  const loadPage = useCallback(
    async (gen: number): Promise<string | null> => {
      const trips = windowRef.current;
      if (inFlight.current || !trips.hasNextPage) return null;
      inFlight.current = true;
      setLoading(true);
      trips.pageAsked();
      try {
        const result = await urqlClient
          .query(
            TripsPageQuery,
            { first: PAGE_SIZE, after: trips.endCursor, filter, orderBy: orderByOf(order) },
            { requestPolicy: 'network-only' },
          )
          .toPromise();
        if (gen !== generation.current) return null;
        // With data, errors are about single values (a NaN fare, an infinite time: JSON has no such numbers, so the
        // gateway sends null for them with an error). The rows are shown, and the error said; refusing the page
        // for them left the table empty and asking again forever.
        if (!result.data) {
          const failure = result.error ? describeFailure(result.error) : { message: 'no data', final: false };
          finalFailure.current = failure.final;
          setError(failure.message);
          // A later page: asked again shortly, or its error stayed on screen until the user scrolled again. (The
          // first page is retried by the effect that starts the stream from it.)
          if (trips.size > 0 && !failure.final) {
            setTimeout(() => {
              if (gen === generation.current) void loadPage(gen);
            }, RETRY_MS);
          }
          return null;
        }
        const page = result.data.trips;
        // Read by bench/web-page.ts: where the first load's time goes.
        if (trips.size === 0) performance.mark('trips:first-page');
        const errors = result.error?.graphQLErrors ?? [];
        const unsent = unsentByIndex(errors, ['trips', 'edges']);
        trips.addPage(
          page.edges.map((edge, index) => {
            const fields = unsent.get(index);
            return fields ? { ...edge.node, unsent: fields } : edge.node;
          }),
          page.pageInfo,
          Number(page.totalCount),
        );
        // Errors about single values are said beside the rows that have them (unsentNotice); any other is said here.
        const other = errors.filter((error) => !isUnder(error, ['trips', 'edges']));
        setError(other.length > 0 ? other.map((error) => error.message).join('; ') : null);
        setVersion((v) => v + 1);
        return page.streamCursor;
      } finally {
        if (gen === generation.current) {
          inFlight.current = false;
          setLoading(false);
        }
      }
    },
    [filter, order],
  );

  // Bumped when the stream cannot resume from the page's position: everything is read again.
  const [restarts, setRestarts] = useState(0);

  useEffect(() => {
    const gen = ++generation.current;
    windowRef.current = new TripWindow(order);
    inFlight.current = false;
    finalFailure.current = false;
    setVersion((v) => v + 1);
    setError(null);
    // Whatever the previous filter's stream said, this one has none yet.
    setLive({ state: enabled ? 'connecting' : 'stopped' });
    if (!enabled) {
      setLoading(false);
      return;
    }
    let stop: (() => void) | undefined;
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const start = async () => {
      const streamCursor = await loadPage(gen);
      if (cancelled) return;
      if (streamCursor === null) {
        // Refused input gets the same answer every time: say so, and stop. Anything else (the gateway or the
        // database away): try again shortly; the error stays shown until a page loads.
        if (finalFailure.current) setLive({ state: 'stopped' });
        else retry = setTimeout(() => void start(), RETRY_MS);
        return;
      }
      stop = subscribeTripChanges({
        filter,
        after: streamCursor,
        onChanges: (changes: TripChange[]) => {
          windowRef.current.apply(changes);
          setVersion((v) => v + 1);
          setChangeCount((c) => c + changes.length);
          // A tab left open on a busy pipeline: start again from a fresh first page (and its stream position).
          // Reading again drops the pages a reader scrolled to, so a tab scrolled past its first page is left
          // alone up to a far higher bound.
          const shown = windowRef.current;
          const bound = shown.pagedRows > PAGE_SIZE ? LIVE_ROWS_KEPT_SCROLLED : LIVE_ROWS_KEPT;
          if (shown.liveSurplus > bound) setRestarts((n) => n + 1);
        },
        onExpired: () => setRestarts((n) => n + 1),
        onState: (state, detail) => {
          setLive({ state, detail });
          if (state === 'connected') performance.mark('trips:stream-started');
        },
      });
    };
    void start();
    return () => {
      cancelled = true;
      clearTimeout(retry);
      stop?.();
    };
  }, [filter, order, enabled, loadPage, restarts]);

  const trips = windowRef.current;
  return {
    rows: trips.list(),
    totalCount: trips.totalCount,
    hasNextPage: trips.hasNextPage,
    loading,
    error,
    live: live.state,
    liveDetail: live.detail,
    changeCount,
    loadMore: () => {
      if (enabled) void loadPage(generation.current);
    },
  };
}
