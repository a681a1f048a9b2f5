/**
 * PGSSLMODE=prefer, settled at startup by asking the server with the protocol's SSLRequest: TLS when it is
 * offered (it used to mean "in the clear" always, as pg reads it), in the clear when it is not, and asked again
 * by each new connection when it cannot be asked.
 * Lakebase's raising of require/prefer to verify-full is in test/postgres-tls.test.ts.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type DatabaseConfig } from '../src/config/env.js';
import { settleSslMode } from '../src/db/ssl-preference.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** A server that answers an SSLRequest as a Postgres with TLS does ('S'), and records what it was sent. */
async function tlsOfferingServer(): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    socket.once('data', (bytes) => {
      received.push(bytes);
      socket.end('S');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const settle = (database: DatabaseConfig, log: Parameters<typeof settleSslMode>[2]) =>
  settleSslMode(database, { lakebaseCredentials: false }, log);

function databaseAt(url: string) {
  const config = loadConfig({ DATABASE_URL: url }).database;
  if (!config) throw new Error('no database');
  return config;
}

describe('PGSSLMODE=prefer', () => {
  let db: TestDatabase;
  const lines: { level: string; message: string }[] = [];
  const logger = {
    info: (message: string) => lines.push({ level: 'info', message }),
    warn: (message: string) => lines.push({ level: 'warn', message }),
  };
  beforeAll(async () => {
    db = await createTestDatabase('ssl_preference');
  });
  afterAll(() => db.drop());

  it('is the default, and means TLS with a server that offers it', async () => {
    const offering = await tlsOfferingServer();
    try {
      const database = databaseAt(`postgres://u:p@127.0.0.1:${offering.port}/d`);
      expect(database.sslMode).toBe('prefer');
      expect((await settle(database, logger)).sslMode).toBe('require');
      // The request was the protocol's SSLRequest, nothing else (no login was attempted).
      expect(offering.received).toEqual([Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])]);
      expect(lines.at(-1)).toEqual({
        level: 'info',
        message: expect.stringMatching(/offers TLS; connections are encrypted/) as unknown,
      });
    } finally {
      await offering.close();
    }
  });

  it('means in the clear with a server that offers no TLS (the embedded test server)', async () => {
    const resolved = await settle(databaseAt(db.url.replace(/\?.*$/, '')), logger);
    expect(resolved.sslMode).toBe('disable');
    expect(lines.at(-1)?.message).toMatch(/offers no TLS/);
  });

  it('leaves an explicit mode alone, and leaves prefer unsettled, with a warning, when the server cannot be asked', async () => {
    expect((await settle(databaseAt(`${db.url.replace(/\?.*$/, '')}?sslmode=disable`), logger)).sslMode).toBe(
      'disable',
    );
    // Each new connection then asks again until the server answers (test/postgres-tls.test.ts). Settling here
    // was wrong either way for the life of the process: in the clear, a server requiring TLS refused every login;
    // insisting on TLS, a server without it was never reached.
    const unreachable = await settle(databaseAt('postgres://u:p@127.0.0.1:1/d'), logger);
    expect(unreachable.sslMode).toBe('prefer');
    expect(lines.at(-1)).toEqual({
      level: 'warn',
      message: expect.stringMatching(/could not ask the server whether it offers TLS; each connection asks/) as unknown,
    });
  });

  // The probe's own deadline is set past the test's (60 s): only the close can end it in time.
  it('does not wait for ever on a server that closes the probe without answering', async () => {
    const closing = net.createServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    try {
      const port = (closing.address() as net.AddressInfo).port;
      const settled = await settleSslMode(
        databaseAt(`postgres://u:p@127.0.0.1:${port}/d`),
        { lakebaseCredentials: false },
        logger,
        120_000,
      );
      expect(settled.sslMode).toBe('prefer');
      expect(lines.at(-1)?.message).toMatch(/could not ask the server/);
    } finally {
      await new Promise((resolve) => closing.close(resolve));
    }
  });
});
