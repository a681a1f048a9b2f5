/**
 * Charts from the aggregate API (tripGroups), for the table's filter: trips per
 * hour of day (New York time) and average fare by pickup borough. Loaded
 * lazily (ag-charts is most of the page's JavaScript), refetched when live
 * changes arrive, at most once a second; an idle page sends nothing. A failure
 * a retry may cure (the gateway away) is retried every RETRY_MS, as the table's
 * pages are: the charts used to stay on their error until the filter changed.
 */
import { AllCommunityModule, ModuleRegistry, type AgCartesianChartOptions } from 'ag-charts-community';
import { AgCharts } from 'ag-charts-react';
import { useEffect, useState } from 'react';
import { urqlClient } from '../client';
import { describeFailure, RETRY_MS } from '../failures';
import type { TripChartsQuery, TripFilter } from '../gql/graphql';
import { TripChartsQuery as TripChartsDocument } from '../operations';

ModuleRegistry.registerModules([AllCommunityModule]);

export default function Charts({ filter, changeCount }: { filter: TripFilter | null; changeCount: number }) {
  const [data, setData] = useState<TripChartsQuery | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Errors that came with the data: single values the gateway could not send. */
  const [partial, setPartial] = useState<string | null>(null);
  const [asked, setAsked] = useState(changeCount);
  const [attempt, setAttempt] = useState(0);

  // Live changes: refetch at most once a second, after the burst.
  useEffect(() => {
    if (changeCount === asked) return;
    const timer = setTimeout(() => setAsked(changeCount), 1000);
    return () => clearTimeout(timer);
  }, [changeCount, asked]);

  useEffect(() => {
    let current = true;
    let retry: ReturnType<typeof setTimeout> | undefined;
    void urqlClient
      .query(TripChartsDocument, { filter }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((result) => {
        if (!current) return;
        const failure = result.error ? describeFailure(result.error) : null;
        if (result.data) {
          // Errors beside data are about single values (a NaN average fare is sent as null): the charts are
          // drawn, the error said, and asking again would only get the same answer.
          setData(result.data);
          setError(null);
          setPartial(failure?.message ?? null);
          return;
        }
        setError(failure?.message ?? null);
        if (failure && !failure.final) retry = setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
      });
    return () => {
      current = false;
      clearTimeout(retry);
    };
  }, [filter, asked, attempt]);

  if (error)
    return (
      <p className="error" role="alert">
        Charts: {error}
      </p>
    );
  if (!data) return <p className="muted">Loading charts…</p>;
  const hours = data.byHour
    .filter((g) => g.pickupHourOfDay != null)
    .map((g) => ({ hour: String(g.pickupHourOfDay).padStart(2, '0'), trips: Number(g.stats.count) }));
  const boroughs = data.byBorough.map((g) => ({
    borough: g.pickupBorough ?? 'Outside NYC list',
    fare: g.stats.fareAmount.avg ?? 0,
    // Null when there is no average to show (no fares, or one the gateway could not send): the table says so.
    shownFare: g.stats.fareAmount.avg,
  }));
  const hourly: AgCartesianChartOptions = {
    title: { text: 'Trips per hour of day (New York)' },
    data: hours,
    series: [{ type: 'bar', xKey: 'hour', yKey: 'trips', yName: 'Trips' }],
    height: 260,
  };
  const fares: AgCartesianChartOptions = {
    title: { text: 'Average fare by pickup borough' },
    data: boroughs,
    series: [{ type: 'bar', xKey: 'borough', yKey: 'fare', yName: 'Average fare ($)' }],
    height: 260,
  };
  return (
    <div className="charts">
      {partial && (
        <p className="error" role="status">
          Charts: some values cannot be shown ({partial})
        </p>
      )}
      <figure data-testid="chart-hours" data-points={hours.length} data-total={hours.reduce((s, h) => s + h.trips, 0)}>
        <AgCharts options={hourly} />
      </figure>
      <figure data-testid="chart-fares" data-points={boroughs.length}>
        <AgCharts options={fares} />
      </figure>
      {/* The charts' figures as text, for a screen reader (the canvas has none) and for anyone who wants numbers. */}
      <details className="chart-data" data-testid="chart-data">
        <summary>The charts' data as tables</summary>
        <table>
          <caption>Trips per hour of day (New York)</caption>
          <thead>
            <tr>
              <th scope="col">Hour</th>
              <th scope="col">Trips</th>
            </tr>
          </thead>
          <tbody>
            {hours.map((h) => (
              <tr key={h.hour}>
                <th scope="row">{h.hour}:00</th>
                <td>{h.trips.toLocaleString('en-US')}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table>
          <caption>Average fare by pickup borough</caption>
          <thead>
            <tr>
              <th scope="col">Borough</th>
              <th scope="col">Average fare</th>
            </tr>
          </thead>
          <tbody>
            {boroughs.map((b) => (
              <tr key={b.borough}>
                <th scope="row">{b.borough}</th>
                <td>{b.shownFare == null ? 'none' : `$${b.shownFare.toFixed(2)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
