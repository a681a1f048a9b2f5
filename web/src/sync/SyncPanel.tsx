/**
 * The synced table's freshness, live through syncStatusChanged, and "Sync now"
 * (refreshSyncedTable) for callers the gateway allows (viewer.canRefresh).
 */
import { useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import type { SyncStatusFieldsFragment } from '../gql/graphql';
import { RefreshSyncedTableMutation, SyncPanelQuery, SyncStatusChangedSubscription } from '../operations';

function describeStaleness(seconds: number | null | undefined): string {
  if (seconds == null) return 'unknown';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function SyncPanel() {
  const [panel] = useQuery({ query: SyncPanelQuery });
  const [changed] = useSubscription({ query: SyncStatusChangedSubscription });
  const [refresh, runRefresh] = useMutation(RefreshSyncedTableMutation);
  const [started, setStarted] = useState<string | null>(null);
  const status: SyncStatusFieldsFragment | undefined =
    changed.data?.syncStatusChanged ?? refresh.data?.refreshSyncedTable.status ?? panel.data?.syncStatus;
  const canRefresh = panel.data?.viewer.canRefresh ?? false;

  return (
    <section className="sync" aria-label="Sync status" data-testid="sync-panel">
      <h2>Sync</h2>
      {panel.error && !status && (
        <p className="error">{panel.error.graphQLErrors[0]?.message ?? panel.error.message}</p>
      )}
      {status && (
        <dl>
          <dt>State</dt>
          <dd data-testid="sync-state">{status.state}</dd>
          <dt>Source version</dt>
          <dd data-testid="sync-version">{status.lastSync?.sourceCommitVersion ?? '–'}</dd>
          <dt>Last synced</dt>
          <dd>{status.lastSync?.endedAt ? new Date(status.lastSync.endedAt).toLocaleString() : '–'}</dd>
          <dt>Staleness</dt>
          <dd>{describeStaleness(status.stalenessSeconds)}</dd>
        </dl>
      )}
      {canRefresh && (
        <button
          type="button"
          data-testid="sync-now"
          disabled={refresh.fetching}
          onClick={() =>
            void runRefresh({}).then((result) => {
              const id = result.data?.refreshSyncedTable.updateId;
              if (result.data) setStarted(id ?? 'started');
            })
          }
        >
          Sync now
        </button>
      )}
      {started && <p data-testid="sync-started">Sync started{started === 'started' ? '' : ` (update ${started})`}.</p>}
      {refresh.error && <p className="error">{refresh.error.graphQLErrors[0]?.message ?? refresh.error.message}</p>}
    </section>
  );
}
