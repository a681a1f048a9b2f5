import type { ConnectionOptions } from 'node:tls';
import type { SslMode } from '../config/env.js';

/**
 * libpq's sslmode semantics for node-postgres. "require" encrypts without
 * verifying the server certificate (as libpq does without a root cert);
 * verify-ca / verify-full verify against the system CAs.
 */
export function pgSslOption(mode: SslMode): false | ConnectionOptions {
  switch (mode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      // pg has no opportunistic TLS. The gateway settles "prefer" at startup by asking the server
      // (ssl-preference.ts); where it is still "prefer" (a test's app), and for "allow", in the clear.
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}
