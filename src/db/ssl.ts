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
      // pg has no opportunistic TLS; "prefer"/"allow" therefore connect in the clear,
      // which is what libpq does against a server without SSL.
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}
