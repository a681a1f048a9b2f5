/**
 * An embedded server left running by a gateway that was killed (kill -9, the OOM killer): the postmaster
 * outlives its parent and keeps the data directory's lock, so the next `npm start` failed with
 * "lock file postmaster.pid already exists" and nothing said what to do. Local development only.
 * Reads /proc, so it knows only on Linux; elsewhere the server's own message stands.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface RunningServer {
  pid: number;
  /** The process that started it, when known. */
  parent: number | undefined;
  /** Its starter is gone (it was reparented to init or a subreaper that is not Node). */
  orphaned: boolean;
  /** The starter's command line, when known (to say who holds it). */
  parentCommand?: string;
  /** The port it listens on (postmaster.pid's fourth line), when it says. */
  port?: number;
}

/** The postmaster that holds `dataDir`'s lock, if one is running. */
export async function runningServerOf(dataDir: string): Promise<RunningServer | undefined> {
  const lock = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(lock?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // A stale lock whose pid now belongs to something else: Postgres itself sees through that.
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (command !== undefined && !command.includes('postgres')) return undefined;
  const listening = Number(lock?.split('\n')[3]);
  const port = Number.isInteger(listening) && listening > 0 ? listening : undefined;
  const parent = await parentOf(pid);
  if (parent === undefined) return { pid, parent, orphaned: false, port };
  const parentCommand = await readFile(`/proc/${parent}/cmdline`, 'utf8').catch(() => '');
  return {
    pid,
    parent,
    orphaned: parent === 1 || !/(?:^|\/)node\b/.test(parentCommand.split('\0')[0] ?? ''),
    parentCommand: parentCommand.split('\0').join(' ').trim() || undefined,
    port,
  };
}

/** Fast shutdown (SIGINT: sessions end, data is flushed), then immediate shutdown if it takes too long. */
export async function stopServer(pid: number, fastMs = 30_000): Promise<void> {
  signal(pid, 'SIGINT');
  if (await exited(pid, fastMs)) return;
  signal(pid, 'SIGQUIT');
  if (!(await exited(pid, 10_000))) throw new Error(`PostgreSQL (pid ${pid}) did not stop`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process (the postgres user, when started as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function exited(pid: number, withinMs: number): Promise<boolean> {
  for (const deadline = Date.now() + withinMs; Date.now() < deadline;) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isAlive(pid);
}

async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // "pid (command) state ppid …": the command may hold spaces and parentheses, so read after the last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const parent = Number(fields?.[1]);
  return Number.isInteger(parent) && parent > 0 ? parent : undefined;
}
