import {
  CellStyleModule,
  ClientSideRowModelModule,
  ColumnApiModule,
  ModuleRegistry,
  RowApiModule,
  RowStyleModule,
  themeQuartz,
  type ColDef,
  type GetRowIdParams,
  type GridApi,
  type PostSortRowsParams,
  type ValueFormatterParams,
} from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { effectiveOrder, SORT_FIELDS, type SortField, type SortKey } from './ordering';
import type { TripRow } from './trip-window';

ModuleRegistry.registerModules([
  ClientSideRowModelModule,
  ColumnApiModule,
  RowApiModule,
  RowStyleModule,
  CellStyleModule,
]);

/** The default theme, with a focus ring that stands out (its own was about 1.7:1 against the header). */
const GRID_THEME = themeQuartz.withParams({ focusShadow: { radius: 0, spread: 2, color: '#0b57d0' } });

const REDUCED_MOTION =
  typeof window !== 'undefined' && window.matchMedia?.('(prefers-reduced-motion: reduce)').matches === true;

/** How long a row that arrived live stays highlighted. */
const FRESH_MS = 3000;

const time = (p: ValueFormatterParams<TripRow, string | null>) =>
  p.value ? new Date(p.value).toLocaleString('en-US', { timeZone: 'America/New_York', hour12: false }) : '';
const money = (p: ValueFormatterParams<TripRow, number | null>) => (p.value == null ? '' : `$${p.value.toFixed(2)}`);
const miles = (p: ValueFormatterParams<TripRow, number | null>) => (p.value == null ? '' : p.value.toFixed(2));

const isSortField = (colId: string): colId is SortField => Object.hasOwn(SORT_FIELDS, colId);

/**
 * The columns, the sortable ones showing `order`. A header click asks the gateway for that order (onSortChanged).
 * A click cycles descending, ascending; shift-click adds a column after the others.
 */
function columnsFor(order: readonly SortKey[]): ColDef<TripRow>[] {
  return COLUMNS.map((column) => {
    const field = column.field;
    if (field === undefined || !isSortField(field)) return column;
    const index = order.findIndex((key) => key.field === field);
    return {
      ...column,
      sortable: true,
      sortingOrder: ['desc', 'asc'],
      sort: index === -1 ? null : order[index]!.direction,
      sortIndex: index === -1 || order.length === 1 ? null : index,
    };
  });
}

/** The order the headers show (after a click, before the page of that order has loaded). */
function orderShown(api: GridApi<TripRow>): SortKey[] {
  const sorted = api
    .getColumnState()
    .filter((state) => (state.sort === 'asc' || state.sort === 'desc') && isSortField(state.colId))
    .sort((a, b) => (a.sortIndex ?? 0) - (b.sortIndex ?? 0));
  return effectiveOrder(
    sorted.map((state) => ({ field: state.colId as SortField, direction: state.sort === 'asc' ? 'asc' : 'desc' })),
  );
}

function showOrder(api: GridApi<TripRow>, order: readonly SortKey[]): void {
  api.applyColumnState({
    state: order.map((key, index) => ({
      colId: key.field,
      sort: key.direction,
      sortIndex: order.length === 1 ? null : index,
    })),
    defaultState: { sort: null, sortIndex: null },
  });
}

// Widths leave room for the sort arrow and its priority number: "Fare" and "Miles" were cut to "F…" and "M".
const COLUMNS: ColDef<TripRow>[] = [
  { field: 'tripId', headerName: 'Trip', width: 110 },
  { field: 'pickupAt', headerName: 'Pickup (New York)', valueFormatter: time, flex: 1, minWidth: 200 },
  { field: 'dropoffAt', headerName: 'Dropoff', valueFormatter: time, flex: 1, minWidth: 180 },
  { field: 'fareAmount', headerName: 'Fare', valueFormatter: money, width: 120, type: 'rightAligned' },
  { field: 'tripDistance', headerName: 'Miles', valueFormatter: miles, width: 115, type: 'rightAligned' },
  { field: 'pickupZip', headerName: 'Pickup ZIP', width: 110 },
  { colId: 'borough', headerName: 'Borough', valueGetter: (p) => p.data?.pickupZone?.borough ?? '', width: 130 },
  { field: 'dropoffZip', headerName: 'Dropoff ZIP', width: 110 },
];

export function TripsGrid({
  rows,
  hasNextPage,
  loading,
  onNeedMore,
  order,
  onOrderChange,
  emptyText,
}: {
  rows: TripRow[];
  hasNextPage: boolean;
  loading: boolean;
  onNeedMore(): void;
  order: readonly SortKey[];
  onOrderChange(order: SortKey[]): void;
  /** What the grid says when it has no rows and is not loading (no match, or the trips could not be loaded). */
  emptyText: string;
}) {
  const grid = useRef<AgGridReact<TripRow>>(null);
  const columns = useMemo(() => columnsFor(order), [order]);
  // `rows` come in the gateway's total order already (TripWindow sorts them with the gateway's comparison). The
  // grid's own sort would put rows of equal value in its arrival order and NULL first ascending, so its result is
  // put back into the order of `rows`, by position, rather than compared all over again.
  const position = useRef(new Map<string, number>());
  position.current = useMemo(() => new Map(rows.map((row, index) => [row.tripId, index])), [rows]);
  const keepRowsOrder = useCallback((params: PostSortRowsParams<TripRow>) => {
    const at = position.current;
    params.nodes.sort((a, b) => (at.get(a.data?.tripId ?? '') ?? 0) - (at.get(b.data?.tripId ?? '') ?? 0));
  }, []);

  const [now, setNow] = useState(() => Date.now());
  const newestFresh = useMemo(() => rows.reduce((max, row) => Math.max(max, row.fresh ?? 0), 0), [rows]);
  // One timer to end the highlight, only while something is highlighted (no work while idle).
  useEffect(() => {
    const remaining = newestFresh + FRESH_MS - Date.now();
    if (remaining <= 0) return;
    const timer = setTimeout(() => {
      setNow(Date.now());
      grid.current?.api?.redrawRows();
    }, remaining + 50);
    return () => clearTimeout(timer);
  }, [newestFresh, now]);

  return (
    <div
      className="grid"
      data-testid="trips-grid"
      data-rows={rows.length}
      data-loading={loading}
      data-order={order.map((key) => `${key.field}:${key.direction}`).join(',')}
    >
      {rows.length === 0 && (
        // Seen, not announced: the count above the table and its error (an alert) say the same to a screen reader.
        <p className="grid-empty" aria-hidden="true" data-testid="grid-empty">
          {loading ? 'Loading trips…' : emptyText}
        </p>
      )}
      <AgGridReact<TripRow>
        ref={grid}
        rowData={rows}
        columnDefs={columns}
        defaultColDef={{ sortable: false, resizable: true }}
        theme={GRID_THEME}
        // ag-grid's overlays are replaced by the page's own (above): its "No Rows To Show" was read out by its live region on
        // every load, and its loading overlay took the keyboard focus off a header just sorted.
        suppressOverlays={['loading', 'noRows', 'noMatchingRows']}
        // Tab leaves the grid (arrow keys move inside it, as in the ARIA grid pattern): cell by cell, with the
        // next page loading as focus neared the end, nothing after the grid could be reached by keyboard.
        tabToNextCell={() => false}
        tabToNextHeader={() => false}
        animateRows={!REDUCED_MOTION}
        onSortChanged={(event) => {
          // Only the user's clicks: the grid also reports the sort it was given in columnDefs.
          if (event.source !== 'uiColumnSorted') return;
          const next = orderShown(event.api);
          // The headers show what is applied: a column shift-clicked after the trip id (which the gateway drops,
          // the id deciding every tie) came off again; it stayed marked while the order did not change.
          showOrder(event.api, next);
          onOrderChange(next);
        }}
        postSortRows={keepRowsOrder}
        getRowId={(p: GetRowIdParams<TripRow>) => p.data.tripId}
        rowClassRules={{ 'row-fresh': (p) => (p.data?.fresh ?? 0) + FRESH_MS > Date.now() }}
        rowHeight={32}
        onBodyScroll={(event) => {
          const last = event.api.getLastDisplayedRowIndex();
          if (hasNextPage && !loading && last >= rows.length - 20) onNeedMore();
        }}
      />
    </div>
  );
}
