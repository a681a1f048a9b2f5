import net from 'node:net';
import type { DatabaseConfig, SslMode } from '../config/env.js';
import type { Logger } from '../logger.js';
import { isLakebaseHost } from './ssl.js';

/** The protocol's SSLRequest: length 8, code 80877103. The server answers one byte: S (TLS follows) or N. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export interface SslSettling {
  /** The password is a Lakebase OAuth token the gateway asks the workspace for (lakebase/password-source.ts). */
  lakebaseCredentials: boolean;
}

/**
 * The sslmode the connections of this process use, settled at startup where the server can say.
 *
 * - **Lakebase** (its host name, or a password that is a Lakebase OAuth token): `require` and `prefer` become
 *   verify-full. Databricks Apps sets PGSSLMODE=require, which in libpq's sense encrypts but accepts any
 *   certificate: whoever answered for PGHOST got the token, a login for an hour, and could serve any rows.
 *   Lakebase's certificates chain to public CAs (Databricks' AppKit verifies them under `require` too).
 * - **`sslrootcert=system`** means verify-full, as in libpq.
 * - **`prefer`** (libpq's default, and ours) means TLS whenever the server offers it. pg cannot fall back to the
 *   clear within one connection, so the server is asked once, with the protocol's own SSLRequest (before any
 *   login): offered, the gateway connects as with `require`; refused, in the clear; unanswered, each new
 *   connection asks again until the server answers (db/preferred-tls.ts).
 */
export async function settleSslMode(
  database: DatabaseConfig,
  settling: SslSettling,
  logger: Pick<Logger, 'info' | 'warn'>,
  timeoutMs = 5_000,
): Promise<DatabaseConfig> {
  return resolvePreferredSsl(raiseSslForLakebase(database, settling, logger), logger, timeoutMs);
}

/** The first half of settleSslMode, with no network: main.ts runs it before anything else uses the settings. */
export function raiseSslForLakebase(
  database: DatabaseConfig,
  settling: SslSettling,
  logger: Pick<Logger, 'info' | 'warn'>,
): DatabaseConfig {
  const where = `${database.host}:${database.port}`;
  const weak = database.sslMode === 'require' || database.sslMode === 'prefer';
  const lakebase = settling.lakebaseCredentials || isLakebaseHost(database.host);
  if (weak && (lakebase || database.sslRootCert === 'system')) {
    logger.info(`PGSSLMODE=${database.sslMode}: the server's certificate and host name are verified (verify-full)`, {
      server: where,
      because: lakebase
        ? 'a Lakebase database: its certificate chains to a public CA'
        : 'PGSSLROOTCERT=system (as libpq: verify-full)',
    });
    return { ...database, sslMode: 'verify-full' };
  }
  if (lakebase && (database.sslMode === 'disable' || database.sslMode === 'allow')) {
    logger.warn(`PGSSLMODE=${database.sslMode} on a Lakebase database: it requires TLS, and logins will fail`, {
      server: where,
      fix: 'unset PGSSLMODE, or set it to require',
    });
  }
  return database;
}

/** The second half: `prefer` asks the server once (see settleSslMode). */
export async function resolvePreferredSsl(
  database: DatabaseConfig,
  logger: Pick<Logger, 'info' | 'warn'>,
  timeoutMs = 5_000,
): Promise<DatabaseConfig> {
  if (database.sslMode !== 'prefer') return database;
  const where = `${database.host}:${database.port}`;
  // libpq never negotiates TLS over a Unix socket.
  if (database.host.startsWith('/')) return { ...database, sslMode: 'disable' };
  let sslMode: SslMode;
  try {
    sslMode = (await offersTls(database.host, database.port, timeoutMs)) ? 'require' : 'disable';
  } catch (error) {
    // Left unsettled: each new connection asks again until the server answers (db/preferred-tls.ts). Settled
    // here either way it was wrong for the life of the process: in the clear, a server that requires TLS refused
    // every login; insisting on TLS, a server without it (a compose file without health checks, a restarted
    // database pod) was never reached.
    logger.warn(
      'PGSSLMODE=prefer: could not ask the server whether it offers TLS; each connection asks until it answers',
      {
        server: where,
        error: (error as Error).message,
      },
    );
    return database;
  }
  logger.info(
    sslMode === 'require'
      ? database.sslRootCert === undefined
        ? 'PGSSLMODE=prefer: the server offers TLS; connections are encrypted (its certificate is not verified: set PGSSLROOTCERT or PGSSLMODE=verify-full to verify it)'
        : 'PGSSLMODE=prefer: the server offers TLS; connections are encrypted, its certificate verified against PGSSLROOTCERT'
      : 'PGSSLMODE=prefer: the server offers no TLS; connections are not encrypted',
    { server: where },
  );
  return { ...database, sslMode };
}

export function offersTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      socket.destroy();
      outcome();
    };
    const fail = (error: Error) => settle(() => reject(error));
    // A timer of its own: the socket's idle timeout ends when the socket does, and a server that closed the
    // connection without answering left this promise pending for ever (startup hung).
    const deadline = setTimeout(() => fail(coded(`no answer within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
    socket.once('error', fail);
    socket.once('close', () => fail(coded('the server closed the connection without answering', 'ECONNRESET')));
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (answer) => {
      const byte = String.fromCharCode(answer[0] ?? 0);
      if (byte === 'S' || byte === 'N') settle(() => resolve(byte === 'S'));
      else fail(new Error(`unexpected answer to SSLRequest: ${JSON.stringify(byte)}`));
    });
  });
}

/** A probe's failure with a network code, so that a connection it fails reads as the database out of reach. */
function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
