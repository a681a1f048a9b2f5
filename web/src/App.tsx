import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { SyncPanel } from './sync/SyncPanel';
import { FilterBar } from './trips/FilterBar';
import { filtersToSearch, parseFilters, readFilters, type Filters } from './trips/filters';
import { orderParam, readOrder, type SortKey } from './trips/ordering';
import { unsentNotice } from './unsent-values';
import { TripsGrid } from './trips/TripsGrid';
import { useTrips } from './trips/useTrips';
import type { LiveState } from './live/trip-changes';

// ag-charts is most of the page's JavaScript: the table shows before it loads.
const Charts = lazy(() => import('./charts/Charts'));

const LIVE_LABELS: Record<LiveState, string> = {
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  behind: 'Catching up…',
  stopped: 'Not live',
};

/** The page's URL query: the filters, then the order (its values need no escaping: letters, `_` and `,`). */
function viewSearch(filters: Filters, order: string): string {
  const search = filtersToSearch(filters);
  if (order === '') return search;
  return `${search === '' ? '?' : `${search}&`}order=${order}`;
}

const orderText = (search: string) => new URLSearchParams(search).get('order')?.trim() ?? '';

/**
 * What a screen reader hears of live changes: new rows were marked only by a faint colour for 3 s. A sum at most
 * every 10 s, politely, so that a busy stream does not flood it.
 */
function useChangeAnnouncement(changeCount: number): string {
  const [said, setSaid] = useState({ count: changeCount, text: '' });
  const latest = useRef(changeCount);
  latest.current = changeCount;
  const pending = changeCount > said.count;
  // One timer from the first change not yet said, not restarted by the next ones: a steady stream is still said.
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(() => {
      const changes = latest.current - said.count;
      // The total makes each text new: the same "3 live changes" twice would not be read again.
      setSaid({
        count: latest.current,
        text: `${changes} live ${changes === 1 ? 'change' : 'changes'} to the trips (${latest.current} since the page loaded)`,
      });
    }, 10_000);
    return () => clearTimeout(timer);
  }, [pending, said.count]);
  return said.text;
}

export function App() {
  const [filters, setFilters] = useState<Filters>(() => readFilters(window.location.search));
  // The URL's `order` as written (read by readOrder): kept as text so a value that does not read stays visible.
  const [order, setOrder] = useState(() => orderText(window.location.search));
  useEffect(() => {
    const onPop = () => {
      setFilters(readFilters(window.location.search));
      setOrder(orderText(window.location.search));
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const search = filtersToSearch(filters);
  // One TripFilter object per distinct filter, so effects restart only when it really changes.
  const { filter, problems } = useMemo(() => parseFilters(readFilters(search)), [search]);
  const problemList = Object.values(problems);
  // The same for the order.
  const sort = useMemo(() => readOrder(`?order=${encodeURIComponent(order)}`), [order]);
  const trips = useTrips(filter, sort.order, problemList.length === 0);
  const unsent = unsentNotice(trips.rows);
  const liveAnnouncement = useChangeAnnouncement(trips.changeCount);

  const navigate = (nextFilters: Filters, nextOrder: string) => {
    const nextSearch = viewSearch(nextFilters, nextOrder);
    if (nextSearch !== window.location.search)
      window.history.pushState(null, '', nextSearch || window.location.pathname);
    setFilters(nextFilters);
    setOrder(nextOrder);
  };
  const applyFilters = (next: Filters) => navigate(next, order);
  const applyOrder = (next: SortKey[]) => navigate(filters, orderParam(next));

  return (
    <main>
      <header>
        <h1>NYC taxi trips</h1>
        <span
          className={`live live-${trips.live}`}
          data-testid="live-state"
          data-state={trips.live}
          title={trips.liveDetail}
        >
          {LIVE_LABELS[trips.live]}
        </span>
        {/* Said when the stream is interrupted, and why (the reason was only a hover title); not the badge's every
            "Connecting…" and "Live", which each filter, order and Back brings. */}
        <span className="visually-hidden" role="status" data-testid="live-notice">
          {trips.live === 'reconnecting' || trips.live === 'behind'
            ? `Live updates interrupted${trips.liveDetail ? ` (${trips.liveDetail})` : ''}; ${LIVE_LABELS[trips.live]}`
            : ''}
        </span>
        <a href="/graphql" className="graphiql-link">
          GraphiQL
        </a>
      </header>
      <FilterBar filters={filters} problems={problems} onChange={applyFilters} />
      <div className="layout">
        <section className="table" aria-label="Trips" data-live-changes={trips.changeCount}>
          {problemList.length > 0 && (
            <p className="error" role="alert" data-testid="filter-problems">
              The filter was not applied: {problemList.join('; ')}.
            </p>
          )}
          {unsent && (
            <p className="notice" role="status" data-testid="unsent-values">
              {unsent}
            </p>
          )}
          {sort.problem && (
            <p className="error" role="alert" data-testid="order-problem">
              The order was not applied ({sort.problem}): the newest pickups are shown first.
            </p>
          )}
          <p className="count">
            <strong data-testid="total-count">
              {trips.totalCount === null ? '…' : trips.totalCount.toLocaleString('en-US')}
            </strong>{' '}
            trips{filter ? ' match the filter' : ''} · {trips.rows.length.toLocaleString('en-US')} loaded
            {trips.error && (
              <span className="error" role="alert">
                {' '}
                · {trips.error}
              </span>
            )}
          </p>
          <TripsGrid
            rows={trips.rows}
            hasNextPage={trips.hasNextPage}
            loading={trips.loading}
            onNeedMore={trips.loadMore}
            order={sort.order}
            onOrderChange={applyOrder}
            emptyText={trips.error ? 'The trips could not be loaded' : 'No trips match the filter'}
          />
          <p className="visually-hidden" role="status" data-testid="live-announcement">
            {liveAnnouncement}
          </p>
        </section>
        <aside>
          <SyncPanel />
        </aside>
      </div>
      {/* Not for a filter that does not read: the charts would show another filter's data than the one typed. */}
      {problemList.length === 0 && (
        <Suspense fallback={<p className="muted">Loading charts…</p>}>
          <Charts filter={filter} changeCount={trips.changeCount} />
        </Suspense>
      )}
    </main>
  );
}
