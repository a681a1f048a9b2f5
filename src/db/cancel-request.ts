import net from 'node:net';

/** What a server told a connection at login (BackendKeyData): enough to cancel its statement from elsewhere. */
export interface BackendKey {
  processID: number;
  secretKey: number;
}

/** Where the connection went: a host name or address, or a Unix socket directory (a path). */
export interface ServerAddress {
  host: string;
  port: number;
}

/** The protocol's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

/**
 * Asks the server to cancel whatever the backend `key` names is running, the
 * way libpq's PQcancel (psql's Ctrl-C) does: a CancelRequest on a connection
 * of its own, sent in the clear, before any login. Poolers and proxies
 * (PgBouncer, Lakebase's) route it by the key they handed out, which
 * `pg_cancel_backend(pid)` could not do: behind a pooler the pid a client sees
 * is not the server's.
 *
 * Resolves once the server has closed the connection: it signals the backend
 * before it closes, so a statement sent on the cancelled connection after this
 * resolves cannot be hit by the cancel (a backend waiting for its next command
 * ignores one). Rejects when that cannot be known (no answer within
 * `timeoutMs`, a refused connection); the caller must then not reuse the
 * cancelled connection.
 */
export function sendCancelRequest(server: ServerAddress, key: BackendKey, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = server.host.startsWith('/')
      ? net.connect({ path: `${server.host}/.s.PGSQL.${server.port}` })
      : net.connect({ host: server.host, port: server.port });
    const timer = setTimeout(() => {
      socket.destroy(new Error(`the server did not close the cancel connection within ${timeoutMs} ms`));
    }, timeoutMs);
    let failure: Error | undefined;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      packet.writeInt32BE(key.processID, 8);
      packet.writeInt32BE(key.secretKey, 12);
      socket.write(packet);
    });
    // The server sends nothing back: it closes the connection when it is done.
    socket.on('data', () => {});
    socket.on('error', (error) => (failure = error));
    socket.on('close', () => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve();
    });
  });
}
