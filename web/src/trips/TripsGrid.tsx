import {
  CellStyleModule,
  ClientSideRowModelModule,
  ModuleRegistry,
  RowApiModule,
  RowStyleModule,
  type ColDef,
  type GetRowIdParams,
  type ValueFormatterParams,
} from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { TripRow } from './trip-window';

ModuleRegistry.registerModules([ClientSideRowModelModule, RowApiModule, RowStyleModule, CellStyleModule]);

/** How long a row that arrived live stays highlighted. */
const FRESH_MS = 3000;

const time = (p: ValueFormatterParams<TripRow, string | null>) =>
  p.value ? new Date(p.value).toLocaleString('en-US', { timeZone: 'America/New_York', hour12: false }) : '';
const money = (p: ValueFormatterParams<TripRow, number | null>) => (p.value == null ? '' : `$${p.value.toFixed(2)}`);
const miles = (p: ValueFormatterParams<TripRow, number | null>) => (p.value == null ? '' : p.value.toFixed(2));

const COLUMNS: ColDef<TripRow>[] = [
  { field: 'tripId', headerName: 'Trip', width: 100 },
  { field: 'pickupAt', headerName: 'Pickup (New York)', valueFormatter: time, flex: 1, minWidth: 170 },
  { field: 'dropoffAt', headerName: 'Dropoff', valueFormatter: time, flex: 1, minWidth: 170 },
  { field: 'fareAmount', headerName: 'Fare', valueFormatter: money, width: 100, type: 'rightAligned' },
  { field: 'tripDistance', headerName: 'Miles', valueFormatter: miles, width: 90, type: 'rightAligned' },
  { field: 'pickupZip', headerName: 'Pickup ZIP', width: 110 },
  { colId: 'borough', headerName: 'Borough', valueGetter: (p) => p.data?.pickupZone?.borough ?? '', width: 130 },
  { field: 'dropoffZip', headerName: 'Dropoff ZIP', width: 110 },
];

export function TripsGrid({
  rows,
  hasNextPage,
  loading,
  onNeedMore,
}: {
  rows: TripRow[];
  hasNextPage: boolean;
  loading: boolean;
  onNeedMore(): void;
}) {
  const grid = useRef<AgGridReact<TripRow>>(null);
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
    <div className="grid" data-testid="trips-grid" data-rows={rows.length} data-loading={loading}>
      <AgGridReact<TripRow>
        ref={grid}
        rowData={rows}
        columnDefs={COLUMNS}
        defaultColDef={{ sortable: false, resizable: true }}
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
