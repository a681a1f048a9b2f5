/**
 * The examples of docs/bi-tools.md, exactly as written there, against a local
 * gateway on a real port: the curl command (bash), the Python script (requests
 * and pandas, run by a real Python), and the request Grafana's Infinity data
 * source sends for the documented query, read with the documented paths.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../src/server/http/listen.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const doc = readFileSync(path.join(root, 'docs/bi-tools.md'), 'utf8');

/** The fenced block right after `<!-- example: name -->`. */
function example(name: string): string {
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  if (!match?.[1]) throw new Error(`docs/bi-tools.md has no example "${name}"`);
  return match[1];
}

/** The first Python that has requests and pandas (CI installs Debian's python3-requests and python3-pandas). */
async function pythonWithPandas(): Promise<string> {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      await run(candidate, ['-c', 'import requests, pandas']);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('no python3 with requests and pandas: apt-get install -y python3-requests python3-pandas');
}

let gateway: TestGateway;
let http: Listening;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  gateway = await startTestGateway('bi_tools_docs');
  await gateway.database.pool.query(
    `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
     SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '5 hours',
            timestamptz '2024-01-01 00:20:00+00' + i * interval '5 hours', 1 + i % 7, 5 + i % 30,
            (ARRAY[10001, 11430, 10301])[i % 3 + 1], 10022
       FROM generate_series(1, 60) AS i`,
  );
  http = await listen(gateway.app.gateway, 0, '127.0.0.1');
  env = { PATH: process.env.PATH, GATEWAY_URL: new URL(http.url).origin, DATABRICKS_TOKEN: 'local' };
});
afterAll(async () => {
  await http.close();
  await gateway.close();
});

describe('docs/bi-tools.md examples run against the local gateway', () => {
  it('curl', async () => {
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', example('curl')], { env });
    const body = JSON.parse(stdout) as {
      data: { tripStats: { count: string; fareAmount: { avg: number; max: number } } };
    };
    expect(body.data.tripStats.count).toBe('60');
    expect(body.data.tripStats.fareAmount.max).toBe(34);
  });

  it('Python: requests, then pandas', async () => {
    const python = await pythonWithPandas();
    const { stdout } = await run(python, ['-c', example('python')], { env });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/pickupBorough\s+stats\.count\s+stats\.fareAmount\.avg\s+stats\.tripDistance\.avg/);
    // 60 trips over three ZIPs: Manhattan (10001), Queens (11430), Staten Island (10301), 20 each.
    expect(lines.slice(1).map((line) => line.trim().split(/\s{2,}|\s(?=\d)/)[0])).toHaveLength(3);
    expect(stdout).toMatch(/Manhattan\s+20/);
    expect(stdout).toMatch(/Queens\s+20/);
  }, 60_000);

  it("Python: a variable that does not read raises the gateway's message, not a bare HTTP error", async () => {
    const python = await pythonWithPandas();
    const script = example('python').replace('"variables": {"first": 20}', '"variables": {"first": "20"}');
    expect(script).toContain('"first": "20"');
    const failure = await run(python, ['-c', script], { env }).then(
      () => null,
      (error: unknown) => error as { stderr: string },
    );
    expect(failure?.stderr).toMatch(/RuntimeError: Variable "\$first" got invalid value "20"/);
  }, 60_000);

  it('Grafana Infinity: the POST it sends, read at data.tripGroups with the documented columns', async () => {
    const response = await fetch(`${env.GATEWAY_URL}/api/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.DATABRICKS_TOKEN}` },
      body: JSON.stringify({ query: example('grafana-infinity') }),
    });
    const body = (await response.json()) as {
      data?: { tripGroups: Array<{ pickupTime: string; stats: { count: string; fareAmount: { avg: number } } }> };
      errors?: unknown;
    };
    expect(body.errors).toBeUndefined();
    const rows = body.data!.tripGroups;
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.reduce((sum, row) => sum + Number(row.stats.count), 0)).toBe(60);
    for (const row of rows) {
      expect(Number.isNaN(Date.parse(row.pickupTime))).toBe(false);
      expect(typeof row.stats.fareAmount.avg).toBe('number');
    }
    expect(rows.map((row) => row.pickupTime)).toEqual([...rows.map((row) => row.pickupTime)].sort());
  });
});
