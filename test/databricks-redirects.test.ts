/**
 * A DATABRICKS_HOST that redirects (http:// for https://, a login page, a proxy) or never answers, through the
 * real SDK: the SDK's own fetch followed 301/302 with every header (the bearer token, the client secret) to the
 * Location, even http://, and never settled the call; a relative Location was an unhandled rejection; 307 read as
 * success; a silent workspace held a call forever. Each is now an error that says what to fix, and nothing is
 * sent to the Location (src/databricks/workspace-http-guard.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import { DatabricksSyncSource } from '../src/sync/databricks-source.js';
import { SyncApiError } from '../src/sync/errors.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';
import { FLAVOURS } from './support/synced-table-flavours.js';

const CLIENT_ID = '3a9e1f70-22c4-4d8e-b1a5-9f0e6d2c4b18';
const CLIENT_SECRET = 'redirect-test-secret';
const TABLE = 'main.default.trips_synced';
const flavour = FLAVOURS[0]!;

let fake: FakeWorkspace;
/** Where the redirects point: it must never hear from the gateway. */
let elsewhere: http.Server;
let elsewhereUrl: string;
const heardElsewhere: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  fake = await startFakeWorkspace({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  elsewhere = http.createServer((request, response) => {
    heardElsewhere.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`);
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await new Promise((resolve) => elsewhere.close(resolve));
  await fake.close();
});
afterEach(() => {
  fake.reset();
  heardElsewhere.length = 0;
  unhandled.length = 0;
});

function source(httpTimeoutMs?: number) {
  fake.setSyncedTable(flavour.build({ table: TABLE, detailedState: 'SYNCED_TABLE_ONLINE', commitVersion: 1 }));
  const config = loadDatabricksConfig({
    DATABRICKS_HOST: fake.url,
    DATABRICKS_CLIENT_ID: CLIENT_ID,
    DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
  });
  const workspace = createWorkspaceClient(config, {
    env: {},
    retryTimeoutSeconds: 5,
    ...(httpTimeoutMs === undefined ? {} : { httpTimeoutMs }),
  });
  return new DatabricksSyncSource(workspace, TABLE, { api: flavour.api, logger: { info: () => {} } });
}

async function failure(promise: Promise<unknown>): Promise<SyncApiError> {
  const settled = await Promise.race([
    promise.then(
      () => new Error('expected the call to fail'),
      (error: unknown) => error,
    ),
    new Promise((resolve) => setTimeout(() => resolve(new Error('the call never settled (10 s)')), 10_000)),
  ]);
  expect(settled).toBeInstanceOf(SyncApiError);
  return settled as SyncApiError;
}

describe('a workspace that redirects', () => {
  it('a 302 to another server: an error naming the Location, and the bearer token is not sent there', async () => {
    const sync = source();
    await sync.getSyncedTable(); // authenticated, the token cached
    fake.failNext(flavour.route, { status: 302, location: `${elsewhereUrl}/stolen` });
    const error = await failure(sync.getSyncedTable());
    expect(error.message).toContain(`DATABRICKS_HOST answered with a redirect (302) to ${elsewhereUrl}/stolen`);
    expect(error.message).toContain('set DATABRICKS_HOST to the workspace URL itself');
    expect(heardElsewhere).toEqual([]);
    // The next call, answered, works: nothing was left broken.
    expect(await sync.getSyncedTable()).toBeTruthy();
  });

  it('a 301 with a relative Location (a login page): an error, not an unhandled rejection and a call that hangs', async () => {
    const sync = source();
    fake.failNext(flavour.route, { status: 301, location: '/login.html?next=%2Fapi' });
    const error = await failure(sync.getSyncedTable());
    expect(error.message).toContain('redirect (301) to /login.html');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  });

  it('a 307 does not read as a successful empty answer', async () => {
    const sync = source();
    fake.failNext(flavour.route, { status: 307, location: `${elsewhereUrl}/again` });
    const error = await failure(sync.getSyncedTable());
    expect(error.message).toContain(`redirect (307) to ${elsewhereUrl}/again`);
    expect(heardElsewhere).toEqual([]);
  });

  it('the OAuth token exchange redirected: the client secret is not sent on, and the error names the redirect', async () => {
    const sync = source();
    fake.failNext('oauth-token', { status: 302, location: `${elsewhereUrl}/oidc/v1/token` });
    const error = await failure(sync.getSyncedTable());
    expect(error.message).toContain(`DATABRICKS_HOST answered with a redirect (302) to ${elsewhereUrl}/oidc/v1/token`);
    expect(heardElsewhere).toEqual([]);
    expect(fake.count('oauth-token')).toBe(1);
  });
});

describe('a workspace that never answers', () => {
  it('ends the request after the deadline with an error that says so', async () => {
    const sync = source(400);
    await sync.getSyncedTable();
    const release = fake.hold(flavour.route);
    try {
      const started = Date.now();
      const error = await failure(sync.getSyncedTable());
      expect(error.message).toContain('the workspace did not answer');
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      release();
    }
  });

  it('the OAuth token exchange unanswered: the authentication fails saying so', async () => {
    const sync = source(400);
    const release = fake.hold('oauth-token');
    try {
      const error = await failure(sync.getSyncedTable());
      expect(error.message).toContain('did not answer');
      expect(fake.count(flavour.route)).toBe(0);
    } finally {
      release();
    }
  });

  it('does not end a kept-alive connection that sits idle past the deadline between calls', async () => {
    const sync = source(300);
    await sync.getSyncedTable();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await sync.getSyncedTable()).toBeTruthy();
    expect(unhandled).toEqual([]);
  });
});
