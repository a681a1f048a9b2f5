/**
 * The synced table's freshness, live through syncStatusChanged, and "Sync now"
 * (refreshSyncedTable) for callers the gateway allows (viewer.canRefresh).
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { adminToken, setAdminToken } from '../client';
import type { SyncStatusFieldsFragment } from '../gql/graphql';
import { RefreshSyncedTableMutation, SyncPanelQuery, SyncStatusChangedSubscription } from '../operations';

function describeStaleness(seconds: number | null | undefined): string {
  if (seconds == null) return 'unknown';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function SyncPanel() {
  const [panel, reloadPanel] = useQuery({ query: SyncPanelQuery });
  const [tokenDraft, setTokenDraft] = useState('');
  const [hasToken, setHasToken] = useState(() => adminToken() !== null);
  const saveToken = (token: string | null) => {
    setAdminToken(token);
    setHasToken(adminToken() !== null);
    setTokenDraft('');
    // canRefresh is per caller: ask again with (or without) the token.
    reloadPanel({ requestPolicy: 'network-only' });
  };
  const submitToken = (event: FormEvent) => {
    event.preventDefault();
    saveToken(tokenDraft);
  };
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
      {status && !canRefresh && !hasToken && (
        <details>
          <summary>Admin token</summary>
          <form onSubmit={submitToken}>
            <label>
              Refresh admin token (GATEWAY_ADMIN_TOKEN), kept in this tab only
              <input
                name="admin-token"
                type="password"
                autoComplete="off"
                value={tokenDraft}
                onChange={(event) => setTokenDraft(event.target.value)}
              />
            </label>
            <button type="submit">Use token</button>
          </form>
        </details>
      )}
      {hasToken && (
        <p className="muted">
          {canRefresh ? 'Admin token in use.' : 'The admin token was not accepted.'}{' '}
          <button type="button" onClick={() => saveToken(null)}>
            Forget token
          </button>
        </p>
      )}
      {started && <p data-testid="sync-started">Sync started{started === 'started' ? '' : ` (update ${started})`}.</p>}
      {refresh.error && <p className="error">{refresh.error.graphQLErrors[0]?.message ?? refresh.error.message}</p>}
    </section>
  );
}
