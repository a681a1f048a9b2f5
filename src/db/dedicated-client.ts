import pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { Logger } from '../logger.js';
import { connectionSettings, type PasswordSource } from './pool.js';
import { clientClassFor } from './preferred-tls.js';

/**
 * A connection of its own, outside the pool, with the pool's settings (same
 * password source and Client class, so Lakebase OAuth works). For LISTEN, which needs a
 * session that stays open and is never handed to another query.
 */
export async function connectDedicatedClient(
  config: DatabaseConfig,
  options: {
    password?: PasswordSource;
    Client?: typeof pg.Client;
    applicationName: string;
    /** Another host (and port) than the pool's, e.g. an endpoint's direct host for LISTEN. */
    host?: { host: string; port: number | undefined } | null;
    /** Says when an unsettled PGSSLMODE=prefer is settled by this connection (db/preferred-tls.ts). */
    logger?: Pick<Logger, 'info'>;
  },
): Promise<pg.Client> {
  // Another host is another server name: its certificate is checked against it, not against PGHOST's.
  const target = options.host ? { ...config, host: options.host.host, port: options.host.port ?? config.port } : config;
  const Client = clientClassFor(target, options.logger ?? { info: () => {} }, options.Client ?? pg.Client);
  const client = new Client({
    ...connectionSettings(target, options.password),
    connectionTimeoutMillis: 10_000,
    // A silently dead peer (no RST) is noticed by TCP keep-alive, not by an idle LISTEN.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: options.applicationName,
  });
  // Until the owner attaches its own handler, an error must not crash the process.
  const early = () => {};
  client.on('error', early);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  client.off('error', early);
  return client;
}
