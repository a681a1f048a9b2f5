import net from 'node:net';
import type { DatabaseConfig, SslMode } from '../config/env.js';
import type { Logger } from '../logger.js';

/** The protocol's SSLRequest: length 8, code 80877103. The server answers one byte: S (TLS follows) or N. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * PGSSLMODE=prefer (libpq's default, and ours) means TLS whenever the server offers it. pg cannot fall back
 * to the clear within one connection, so the server is asked once, at startup, with the protocol's own
 * SSLRequest (before any login): offered, the gateway connects as with `require` (encrypted, the certificate
 * not verified, as libpq's prefer does); refused, in the clear. Taking `prefer` for "in the clear", as pg does,
 * sent passwords and tokens unencrypted to servers that offer TLS. A server that cannot be reached stays in the
 * clear, with a warning; `require` insists.
 */
export async function resolvePreferredSsl(
  database: DatabaseConfig,
  logger: Pick<Logger, 'info' | 'warn'>,
  timeoutMs = 5_000,
): Promise<DatabaseConfig> {
  if (database.sslMode !== 'prefer') return database;
  // libpq never negotiates TLS over a Unix socket.
  if (database.host.startsWith('/')) return { ...database, sslMode: 'disable' };
  const where = `${database.host}:${database.port}`;
  let sslMode: SslMode;
  try {
    sslMode = (await offersTls(database.host, database.port, timeoutMs)) ? 'require' : 'disable';
  } catch (error) {
    logger.warn('PGSSLMODE=prefer: could not ask the server whether it offers TLS; connecting without it', {
      server: where,
      error: (error as Error).message,
      fix: 'set PGSSLMODE=require (or sslmode=require in DATABASE_URL) to insist on TLS',
    });
    return { ...database, sslMode: 'disable' };
  }
  logger.info(
    sslMode === 'require'
      ? 'PGSSLMODE=prefer: the server offers TLS; connections are encrypted'
      : 'PGSSLMODE=prefer: the server offers no TLS; connections are not encrypted',
    { server: where },
  );
  return { ...database, sslMode };
}

export function offersTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(SSL_REQUEST));
    socket.once('data', (answer) => {
      socket.destroy();
      const byte = String.fromCharCode(answer[0] ?? 0);
      if (byte === 'S' || byte === 'N') resolve(byte === 'S');
      else reject(new Error(`unexpected answer to SSLRequest: ${JSON.stringify(byte)}`));
    });
  });
}
