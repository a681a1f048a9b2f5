import { readFileSync } from 'node:fs';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { ConfigError, type SslMode } from '../config/variables.js';

/** PGSSLROOTCERT / `sslrootcert`: the CAs of a PEM file, or `system` (Node's store, which implies verify-full). */
export type SslRootCert = { path: string; pem: string } | 'system';

/** What decides a connection's TLS: the mode, the host a certificate must name, the CAs it must chain to. */
export interface TlsTarget {
  host: string;
  sslMode: SslMode;
  sslRootCert?: SslRootCert | undefined;
}

/**
 * libpq's sslmode semantics for node-postgres. "require" encrypts without verifying the server certificate, as
 * libpq does without a root certificate, and verifies the chain (as verify-ca) when PGSSLROOTCERT names one, as
 * libpq does with one. verify-ca and verify-full verify against PGSSLROOTCERT's CAs, else Node's store (with
 * NODE_EXTRA_CA_CERTS). Lakebase and `sslrootcert=system` raise require and prefer to verify-full before this is
 * asked (ssl-preference.ts, settleSslMode).
 */
export function pgSslOption(target: TlsTarget): false | ConnectionOptions {
  // libpq never negotiates TLS over a Unix socket, whatever the mode says; asking there fails every connection.
  if (target.host.startsWith('/')) return false;
  const ca = typeof target.sslRootCert === 'object' ? { ca: target.sslRootCert.pem } : {};
  const chainOnly = { rejectUnauthorized: true, ...ca, checkServerIdentity: () => undefined };
  switch (target.sslMode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      // pg has no opportunistic TLS. The gateway settles "prefer" at startup by asking the server
      // (ssl-preference.ts); where it is still "prefer" (a test's app), and for "allow", in the clear.
      return false;
    case 'require':
      return target.sslRootCert === undefined ? { rejectUnauthorized: false } : chainOnly;
    case 'verify-ca':
      return chainOnly;
    case 'verify-full':
      // Against the configured host itself: pg names the server (SNI) only for a DNS name, and Node's default check
      // would then compare an IP address's certificate with "localhost".
      return {
        rejectUnauthorized: true,
        ...ca,
        checkServerIdentity: (_servername, certificate) => checkServerIdentity(target.host, certificate),
      };
  }
}

/**
 * Reads PGSSLROOTCERT (or `sslrootcert`), naming the variable at fault when verify-ca or verify-full needs a
 * file that cannot be read. Not read at all for a mode without TLS (`disable`, `allow`), and a missing file is
 * no file under require and prefer, as in libpq: a shell's stale PGSSLROOTCERT stopped `npm start`.
 */
export function readSslRootCert(
  variable: string,
  value: string | undefined,
  sslMode: SslMode,
): SslRootCert | undefined {
  if (value === undefined || sslMode === 'disable' || sslMode === 'allow') return undefined;
  if (value === 'system') return 'system';
  let pem: string;
  try {
    pem = readFileSync(value, 'utf8');
  } catch (error) {
    // As libpq: a missing root certificate only matters where verification is asked for. Under require and
    // prefer the file is used when it exists.
    if (sslMode === 'require' || sslMode === 'prefer') return undefined;
    throw new ConfigError(variable, `cannot read the CA certificate file ${value}: ${(error as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(variable, `${value} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return { path: value, pem };
}

/**
 * Lakebase's Postgres hosts (Provisioned `instance-<uuid>.database.cloud.databricks.com`, Autoscaling endpoints,
 * Azure's `.database.azuredatabricks.net`): served with certificates from public CAs, which Databricks' own
 * AppKit connector verifies under `require`.
 */
const LAKEBASE_HOST = /\.database\.(?:[a-z0-9-]+\.)*(?:databricks\.com|azuredatabricks\.net|databricks\.net)$/i;

export function isLakebaseHost(host: string): boolean {
  return LAKEBASE_HOST.test(host);
}
