import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';

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

/** The protocol's SSLRequest, asked before the CancelRequest when the cancelled connection used TLS. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * Asks the server to cancel whatever the backend `key` names is running, the
 * way libpq's PQcancel (psql's Ctrl-C) does: a CancelRequest on a connection
 * of its own, before any login. Poolers and proxies (PgBouncer, Lakebase's)
 * route it by the key they handed out, which `pg_cancel_backend(pid)` could
 * not do: behind a pooler the pid a client sees is not the server's.
 *
 * When the cancelled connection used TLS (`ssl`, its own settings), so does
 * the cancel, as libpq 17's does: sent in the clear it showed the key to the
 * path (anyone on it could then cancel that connection's statements), and a
 * server or proxy that insists on TLS refused it. The certificate is checked
 * as the connection's was.
 *
 * Resolves once the server has closed the connection: it signals the backend
 * before it closes, so a statement sent on the cancelled connection after this
 * resolves cannot be hit by the cancel (a backend waiting for its next command
 * ignores one). Rejects when that cannot be known (no answer within
 * `timeoutMs`, a refused connection or TLS); the caller must then not reuse the
 * cancelled connection.
 */
export function sendCancelRequest(
  server: ServerAddress,
  key: BackendKey,
  timeoutMs: number,
  ssl: false | ConnectionOptions = false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = server.host.startsWith('/')
      ? net.connect({ path: `${server.host}/.s.PGSQL.${server.port}` })
      : net.connect({ host: server.host, port: server.port });
    let channel: net.Socket = socket;
    const timer = setTimeout(() => {
      channel.destroy(new Error(`the server did not close the cancel connection within ${timeoutMs} ms`));
      socket.destroy();
    }, timeoutMs);
    let failure: Error | undefined;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve();
    };
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    packet.writeInt32BE(key.processID, 8);
    packet.writeInt32BE(key.secretKey, 12);
    socket.setNoDelay(true);
    socket.on('error', (error) => (failure ??= error));
    if (ssl === false || server.host.startsWith('/')) {
      socket.on('connect', () => socket.write(packet));
      // The server sends nothing back: it closes the connection when it is done.
      socket.on('data', () => {});
      socket.on('close', finish);
      return;
    }
    socket.on('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (answer) => {
      if (answer[0] !== 0x53 /* S */) {
        failure = new Error('the server refused TLS for the cancel request, which the connection used');
        socket.destroy();
        return;
      }
      const secure = tls.connect({
        ...ssl,
        socket,
        // pg names the server (SNI) for a DNS name only; the check itself is the connection's (db/ssl.ts).
        ...(net.isIP(server.host) === 0 ? { servername: server.host } : {}),
      });
      channel = secure;
      secure.on('secureConnect', () => secure.write(packet));
      secure.on('data', () => {});
      secure.on('error', (error) => (failure ??= error));
      secure.on('close', finish);
    });
    socket.on('close', () => {
      if (channel === socket) finish();
    });
  });
}
