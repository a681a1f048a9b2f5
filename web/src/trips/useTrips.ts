/**
 * The trips table's data: keyset pages of trips(orderBy: [PICKUP_AT_DESC])
 * plus the live stream, for one filter. Until TripConnection.streamCursor
 * exists the stream is opened first and the first page read after its first
 * batch, so every row added after the stream's start position arrives either
 * in the page or in the stream (rows in both are the same id, kept once).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { urqlClient } from '../client';
import type { TripFilter } from '../gql/graphql';
import { subscribeTripChanges, type LiveState, type TripChange } from '../live/trip-changes';
import { TripsPageQuery } from '../operations';
import { TripWindow, type TripRow } from './trip-window';

export const PAGE_SIZE = 100;

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

export function useTrips(filter: TripFilter | null): TripsState {
  // Bumped to re-render when the window's rows change (the window itself is mutable).
  const [, setVersion] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState<{ state: LiveState; detail?: string }>({ state: 'connecting' });
  const [changeCount, setChangeCount] = useState(0);
  const windowRef = useRef(new TripWindow());
  const inFlight = useRef(false);
  const generation = useRef(0);

  const loadPage = useCallback(
    async (gen: number) => {
      const trips = windowRef.current;
      if (inFlight.current || !trips.hasNextPage) return;
      inFlight.current = true;
      setLoading(true);
      try {
        const result = await urqlClient
          .query(
            TripsPageQuery,
            { first: PAGE_SIZE, after: trips.endCursor, filter },
            { requestPolicy: 'network-only' },
          )
          .toPromise();
        if (gen !== generation.current) return;
        if (result.error || !result.data) {
          setError(result.error?.message ?? 'no data');
          return;
        }
        const page = result.data.trips;
        // Read by bench/web-page.ts: where the first load's time goes.
        if (trips.size === 0) performance.mark('trips:first-page');
        trips.addPage(
          page.edges.map((edge) => edge.node),
          page.pageInfo,
          Number(page.totalCount),
        );
        setError(null);
        setVersion((v) => v + 1);
      } finally {
        if (gen === generation.current) {
          inFlight.current = false;
          setLoading(false);
        }
      }
    },
    [filter],
  );

  // Bumped when the stream cannot resume from the page's position: everything is read again.
  const [restarts, setRestarts] = useState(0);

  useEffect(() => {
    const gen = ++generation.current;
    windowRef.current = new TripWindow();
    inFlight.current = false;
    setVersion((v) => v + 1);
    let firstBatch = true;
    const stop = subscribeTripChanges({
      filter,
      after: null,
      onChanges: (changes: TripChange[]) => {
        windowRef.current.apply(changes);
        setVersion((v) => v + 1);
        setChangeCount((c) => c + changes.length);
      },
      onExpired: () => setRestarts((n) => n + 1),
      onState: (state, detail) => {
        setLive({ state, detail });
        // The first page waits for the stream's start position; if the stream cannot start, the table loads anyway.
        if (firstBatch) {
          firstBatch = false;
          performance.mark('trips:stream-started');
          void loadPage(gen);
        }
      },
    });
    return () => {
      stop();
    };
  }, [filter, loadPage, restarts]);

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
    loadMore: () => void loadPage(generation.current),
  };
}
