/**
 * `npm start` in development (no database configured) as a process, when it
 * cannot finish starting: the embedded PostgreSQL it started must not outlive
 * it, or the next `npm start` finds the cluster's port and data taken.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/dev/embedded-postgres.js';

let holder: Server;
let port: number;
let pgPort: number;
let dir: string;

beforeAll(async () => {
  holder = createServer((_req, res) => res.end('taken'));
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  port = (holder.address() as { port: number }).port;
  // A port the OS just handed out, not port + 1: with the suite's other
  // clusters starting in parallel, a neighbouring port is often taken.
  pgPort = await freePort();
  dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-dev-startup-'));
});

afterAll(async () => {
  await new Promise((resolve) => holder.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('npm start in development', () => {
  it('stops the embedded database and names the taken port when it cannot listen', async () => {
    const dataDir = path.join(dir, 'pg');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: process.env.TMPDIR,
        PORT: String(port),
        HOST: '127.0.0.1',
        EMBEDDED_PG_DIR: dataDir,
        EMBEDDED_PG_PORT: String(pgPort),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    // The cluster was started (its data directory exists) and then stopped (no postmaster.pid left).
    // As root the data may live elsewhere (see src/dev/embedded-postgres.ts); then the log says where.
    const moved = /keeping the PostgreSQL data in (\S+) instead/.exec(stderr)?.[1];
    const actual = moved ?? dataDir;
    expect(existsSync(path.join(actual, 'PG_VERSION'))).toBe(true);
    expect(existsSync(path.join(actual, 'postmaster.pid'))).toBe(false);
  }, 120_000);

  it.each([
    ['LOCAL_SYNC_POLICY', 'continous'],
    ['LOCAL_SYNC_INTERVAL_MS', '5'],
    ['PGSSLMODE', 'bogus'],
    ['PGPORT', 'abc'],
  ])(
    'stops on %s=%s naming the variable, before it starts the embedded database',
    async (name, value) => {
      const dataDir = path.join(dir, `pg-${name.toLowerCase()}`);
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          TMPDIR: process.env.TMPDIR,
          PORT: '0',
          HOST: '127.0.0.1',
          EMBEDDED_PG_DIR: dataDir,
          EMBEDDED_PG_PORT: String(pgPort),
          LOG_LEVEL: 'warn',
          [name]: value,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(78);
      expect(output).toContain(`configuration error: ${name}:`);
      // Nothing was started: no cluster holds the port or the data directory.
      expect(existsSync(dataDir)).toBe(false);
    },
    60_000,
  );
});
