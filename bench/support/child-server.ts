/**
 * Servers under test run in child processes, so the load generator and the
 * server do not share an event loop (a shared loop would measure each one's
 * stalls as the other's latency).
 *
 * A child script announces itself with one stdout line `READY {"url": ...}`
 * (see announceReady) and exits on SIGTERM, which also lets `--cpu-prof`
 * write its profile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { V8_FLAGS } from '../../src/server/fast-paths/v8-flags.js';

export interface ChildServer {
  url: string;
  pid: number;
  /** CPU time (user + system) the process has used so far, in ms; NaN where /proc is not available. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export interface ChildServerOptions {
  /** Path of the TypeScript entry, run with `node --import tsx`. */
  script: string;
  /** Another Node binary, running `script` as plain JavaScript (no tsx): a peer on Node 22. */
  node?: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  nodeArgs?: string[];
  /** Name shown in errors and in forwarded stderr lines. */
  label: string;
  startTimeoutMs?: number;
}

const READY = 'READY ';

export function announceReady(url: string): void {
  process.stdout.write(`${READY}${JSON.stringify({ url })}\n`);
}

export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  // The V8 flags production starts with (app.yaml), for the gateway and its baseline alike; a peer on its own
  // Node binary runs as its users deploy it, without them.
  const nodeArgs = [...(options.node ? [] : V8_FLAGS), ...(options.nodeArgs ?? [])];
  const args = options.node ? [options.script] : ['--import', 'tsx', options.script];
  const child = spawn(options.node ?? process.execPath, [...nodeArgs, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 20) stderr.shift();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.label} did not start within ${options.startTimeoutMs ?? 60_000} ms`)),
      options.startTimeoutMs ?? 60_000,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith(READY)) return;
      clearTimeout(timer);
      resolve((JSON.parse(line.slice(READY.length)) as { url: string }).url);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.label} exited with code ${code} before it was ready:\n${stderr.join('\n')}`));
    });
  });
  const pid = child.pid ?? -1;
  return { url, pid, cpuMs: () => processCpuMs(pid), stop: () => stopChild(child, exited) };
}

/** Linux: utime + stime from /proc/<pid>/stat, in clock ticks (USER_HZ, 100 on Linux). */
export async function processCpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** For child scripts: close on SIGTERM/SIGINT, then exit (which writes a --cpu-prof profile). */
export function exitOnSignal(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
