/**
 * Every Databricks REST call checks the workspace's TLS certificate. The SDK's API client used an HTTPS agent
 * that did not (its skipVerify has no default, and the agent verifies only when it is `false`), so a server
 * with any certificate at DATABRICKS_HOST received the bearer token of every credential, synced-table and
 * pipeline call, and could choose the database password the gateway then used.
 *
 * The impostor here is an HTTPS server on loopback with a self-signed certificate (test/fixtures/tls, made
 * with `openssl req -x509 -days 36500 -subj /CN=impostor.invalid`): what a man in the middle presents.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import { getPostgresSyncedTable } from '../src/databricks/synced-table-api.js';
import { endpointCredentialIssuer } from '../src/lakebase/credential-issuer.js';

let impostor: https.Server;
let host = '';
/** What reached the impostor's HTTP layer: nothing may, since the handshake must fail first. */
const received: { path: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url));
  impostor = https.createServer(
    { key: fixture('self-signed-key.pem'), cert: fixture('self-signed-cert.pem') },
    (request, response) => {
      received.push({ path: request.url ?? '', authorization: request.headers.authorization });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ token: 'chosen-by-the-impostor', expire_time: '2099-01-01T00:00:00Z' }));
    },
  );
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  host = `https://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => impostor.close(() => resolve())));

describe('a workspace host whose certificate does not verify', () => {
  it('gets no token from a personal access token client, and issues no credential', async () => {
    const workspace = createWorkspaceClient(loadDatabricksConfig({ DATABRICKS_HOST: host }), {
      env: { DATABRICKS_TOKEN: 'dapi-secret-token' },
      retryTimeoutSeconds: 1,
    });
    const issued = endpointCredentialIssuer(workspace, 'projects/p/branches/b/endpoints/e').issue();
    await expect(issued).rejects.toThrow(/certificate/i);
    const status = getPostgresSyncedTable(workspace, 'main.default.trips_synced');
    await expect(status).rejects.toThrow(/certificate/i);
    expect(received).toEqual([]);
  });

  it("gets nothing from the app's service principal either (OAuth M2M, as on Databricks Apps)", async () => {
    const workspace = createWorkspaceClient(
      loadDatabricksConfig({ DATABRICKS_HOST: host, DATABRICKS_CLIENT_ID: 'id', DATABRICKS_CLIENT_SECRET: 'secret' }),
      { env: {}, retryTimeoutSeconds: 1 },
    );
    await expect(endpointCredentialIssuer(workspace, 'projects/p/branches/b/endpoints/e').issue()).rejects.toThrow();
    expect(received).toEqual([]);
  });
});
