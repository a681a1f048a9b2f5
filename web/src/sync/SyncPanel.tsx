/**
 * The synced table's freshness, live through syncStatusChanged, and "Sync now"
 * (refreshSyncedTable) for callers the gateway allows (viewer.canRefresh).
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { adminToken, setAdminToken } from '../client';
import type { SyncStatusFieldsFragment } from '../gql/graphql';
import { RefreshSyncedTableMutation, SyncPanelQuery, SyncStatusChangedSubscription, ViewerQuery } from '../operations';

function describeStaleness(seconds: number | null | undefined): string {
  if (seconds == null) return 'unknown';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * The staleness now: the gateway's figure plus the time since it was received. The gateway sends a status only
 * when something changes, so the figure shown at load used to stay as it was (43 s, two minutes later).
 */
function useStalenessNow(seconds: number | null | undefined, status: object | undefined): number | null {
  const [received, setReceived] = useState(() => ({ status, at: Date.now() }));
  // A new status restarts the count in the same render (an effect would show one frame of old count + new figure).
  if (received.status !== status) setReceived({ status, at: Date.now() });
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (seconds == null) return;
    // Seconds are shown under 90 s, minutes above: tick as often as the figure can change.
    const timer = setInterval(() => setNow(Date.now()), seconds < 90 ? 1000 : 30_000);
    return () => clearInterval(timer);
  }, [seconds]);
  return seconds == null ? null : seconds + Math.max(0, now - received.at) / 1000;
}

export function SyncPanel() {
  const [panel] = useQuery({ query: SyncPanelQuery });
  const [viewer, reloadViewer] = useQuery({ query: ViewerQuery });
  const [tokenDraft, setTokenDraft] = useState('');
  const [hasToken, setHasToken] = useState(() => adminToken() !== null);
  const saveToken = (token: string | null) => {
    setTokenCheck('asked');
    setFocusNext(true);
    setAdminToken(token);
    setHasToken(adminToken() !== null);
    setTokenDraft('');
    // canRefresh is per caller: ask again with (or without) the token.
    reloadViewer({ requestPolicy: 'network-only' });
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
  const canRefresh = viewer.data?.viewer.canRefresh ?? false;
  const staleness = useStalenessNow(status?.stalenessSeconds, status);
  // After "Use token" or "Forget token" the control the keyboard was on goes away: focus goes where the user goes
  // next ("Sync now" once the token is accepted, else the token's summary), not to the page's start.
  const syncNow = useRef<HTMLButtonElement>(null);
  const tokenSummary = useRef<HTMLElement>(null);
  const forgetToken = useRef<HTMLButtonElement>(null);
  // 'asked': the viewer is asked again with (or without) the token; 'fetching': its answer is on its way. Until
  // it is back, canRefresh is the previous token's: the focus waits for it (it went to a "Sync now" about to go
  // away), and so does the message (it said "not accepted" for a token about to be accepted).
  const [tokenCheck, setTokenCheck] = useState<'idle' | 'asked' | 'fetching'>('idle');
  useEffect(() => {
    if (tokenCheck === 'asked' && viewer.fetching) setTokenCheck('fetching');
    if (tokenCheck !== 'fetching' || viewer.fetching) return;
    setTokenCheck('idle');
  }, [tokenCheck, viewer.fetching]);
  const [focusNext, setFocusNext] = useState(false);
  useEffect(() => {
    if (!focusNext || tokenCheck !== 'idle') return;
    (syncNow.current ?? tokenSummary.current ?? forgetToken.current)?.focus();
    setFocusNext(false);
  }, [focusNext, tokenCheck, canRefresh, hasToken]);

  return (
    <section className="sync" aria-label="Sync status" data-testid="sync-panel">
      <h2>Sync</h2>
      {panel.error && !status && (
        <p className="error" role="alert">
          {panel.error.graphQLErrors[0]?.message ?? panel.error.message}
        </p>
      )}
      {status && (
        <dl>
          <dt>State</dt>
          <dd data-testid="sync-state">{status.state}</dd>
          <dt>Source version</dt>
          <dd data-testid="sync-version">{status.lastSync?.sourceCommitVersion ?? '–'}</dd>
          <dt>Last synced</dt>
          <dd data-testid="sync-ended" data-ended={status.lastSync?.endedAt ?? ''}>
            {status.lastSync?.endedAt ? new Date(status.lastSync.endedAt).toLocaleString() : '–'}
          </dd>
          <dt>Staleness</dt>
          <dd data-testid="sync-staleness">{describeStaleness(staleness)}</dd>
        </dl>
      )}
      {canRefresh && (
        <button
          type="button"
          data-testid="sync-now"
          ref={syncNow}
          // aria-disabled, not disabled: a disabled button loses the keyboard focus while the request runs.
          aria-disabled={refresh.fetching}
          onClick={() => {
            if (refresh.fetching) return;
            void runRefresh({}).then((result) => {
              const id = result.data?.refreshSyncedTable.updateId;
              if (result.data) setStarted(id ?? 'started');
            });
          }}
        >
          Sync now
        </button>
      )}
      {status && !canRefresh && !hasToken && (
        <details>
          <summary ref={tokenSummary}>Admin token</summary>
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
      {/* Always in the page, so that a screen reader reads what changes in it. */}
      <p className="muted" role="status" data-testid="token-state">
        {tokenCheck !== 'idle'
          ? hasToken
            ? 'Checking the admin token…'
            : ''
          : hasToken
            ? canRefresh
              ? 'Admin token in use.'
              : 'The admin token was not accepted.'
            : ''}
      </p>
      {hasToken && (
        <p>
          <button type="button" ref={forgetToken} onClick={() => saveToken(null)}>
            Forget token
          </button>
        </p>
      )}
      {/* In the page before its text, as the token's status: a live region that appears with its text is not read. */}
      <p data-testid="sync-started" role="status">
        {started && `Sync started${started === 'started' ? '' : ` (update ${started})`}.`}
      </p>
      {refresh.error && (
        <p className="error" role="alert">
          {refresh.error.graphQLErrors[0]?.message ?? refresh.error.message}
        </p>
      )}
    </section>
  );
}
