/**
 * Whether a LISTEN connection really receives notifications. A pooled
 * endpoint host (Lakebase's read_write_pooled_host, PgBouncer in transaction
 * mode) accepts LISTEN but hands the session's server connection to other
 * clients between statements, so notifications go astray. The probe LISTENs
 * on a channel of its own and NOTIFYs it from the same session: a direct
 * connection always delivers that to itself.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../db/sql-identifiers.js';

export class ListenNotDeliveredError extends Error {
  constructor(where: string, timeoutMs: number) {
    super(
      `LISTEN on ${where} accepted, but a probe notification did not arrive within ${timeoutMs} ms: ` +
        'the host looks pooled (PgBouncer transaction mode does not carry LISTEN). Set LIVE_LISTEN_HOST to the ' +
        "endpoint's direct host (status.hosts.host of the endpoint); until then the live feed polls " +
        '(LIVE_POLL_INTERVAL_MS)',
    );
    this.name = 'ListenNotDeliveredError';
  }
}

export async function verifyListenDelivers(client: pg.Client, where: string, timeoutMs = 2000): Promise<void> {
  const channel = `lakebase_graphql_probe_${randomBytes(6).toString('hex')}`;
  let onNotification: ((message: pg.Notification) => void) | undefined;
  const arrived = new Promise<boolean>((resolve) => {
    onNotification = (message) => {
      if (message.channel === channel) resolve(true);
    };
    client.on('notification', onNotification);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    await client.query(`LISTEN ${quoteIdent(channel)}`);
    await client.query(`NOTIFY ${quoteIdent(channel)}`);
    const delivered = await Promise.race([arrived, timedOut]);
    if (!delivered) throw new ListenNotDeliveredError(where, timeoutMs);
    await client.query(`UNLISTEN ${quoteIdent(channel)}`);
  } finally {
    clearTimeout(timer);
    if (onNotification) client.off('notification', onNotification);
  }
}
