/**
 * Maps libpq's sslmode onto pg's `ssl` option. pg's own reading of PGSSLMODE
 * differs from libpq (it verifies certificates for "require" and insists on
 * SSL for "prefer"), so the pool is always given this explicit value.
 *
 * - disable, allow, prefer: no SSL. pg cannot try SSL and fall back like libpq
 *   does; these modes are for local servers, which usually have no SSL.
 * - require: encrypted, certificate not verified (libpq semantics; Databricks
 *   Apps sets PGSSLMODE=require for Lakebase).
 * - verify-ca: encrypted, certificate chain verified, host name not checked.
 * - verify-full: encrypted, chain and host name verified.
 */
import type { ConnectionOptions } from 'node:tls';
import type { SslMode } from '../config/env.js';

export type PgSslOption = false | ConnectionOptions;

export interface SslOptions {
  /** PEM CA bundle (contents of PGSSLROOTCERT); default: Node's trusted roots. */
  ca?: string;
}

export function pgSslOption(mode: SslMode, options: SslOptions = {}): PgSslOption {
  const ca = options.ca === undefined ? {} : { ca: options.ca };
  switch (mode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...ca, rejectUnauthorized: true };
  }
}

/** True when the mode forbids an unencrypted connection. */
export function sslRequired(mode: SslMode): boolean {
  return mode === 'require' || mode === 'verify-ca' || mode === 'verify-full';
}
