/**
 * Secrets stay out of what the gateway writes: logs, /ready's reason and configuration errors. Found by an audit
 * that drove a production gateway through failures and searched every output for the secrets it was given.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import { describeError, redactSecrets } from '../src/errors.js';
import { endpointCredentialIssuer } from '../src/lakebase/credential-issuer.js';
import { loggableEndpoint, tracingSettings } from '../src/observability/tracing.js';

describe('redactSecrets', () => {
  it('hides token answers, bearer tokens, credential parameters and URL passwords', () => {
    expect(redactSecrets('body {"access_token":"eyJ.secret","token_type":"Bearer","expires_in":3600}')).toBe(
      'body {"access_token":"***","token_type":"Bearer","expires_in":3600}',
    );
    expect(redactSecrets('{"token": "lbtok_1", "client_secret":"dose-x"}')).toBe(
      '{"token": "***", "client_secret":"***"}',
    );
    expect(redactSecrets('Authorization: Bearer dapi0123456789abcdef==')).toBe('Authorization: Bearer ***');
    expect(redactSecrets('grant_type=client_credentials&client_secret=dose-x&scope=all-apis')).toBe(
      'grant_type=client_credentials&client_secret=***&scope=all-apis',
    );
    expect(redactSecrets('export to https://collector:p%40ss@otel.example.com:4318/v1/traces failed')).toBe(
      'export to https://collector:***@otel.example.com:4318/v1/traces failed',
    );
  });

  it('hides the other forms a secret takes, and keeps the user of a URL', () => {
    for (const [text, hidden] of [
      ['Authorization: bearer dapi0123456789abcdef', 'dapi0123456789abcdef'],
      ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA'],
      ["host=db password='s3cret' user=x", 's3cret'],
      ['PGPASSWORD=s3cret', 's3cret'],
      ['https://collector.example.com/v1/traces?token=s3cret&x=1', 's3cret'],
      ['https://otel.example.com/v1/traces?api_key=s3cret', 's3cret'],
      ['x-api-key: s3cret-key', 's3cret-key'],
      ['DATABRICKS_TOKEN=dapi0123 DATABRICKS_CLIENT_SECRET=dose0123', 'dapi0123'],
      ['DATABRICKS_TOKEN=dapi0123 DATABRICKS_CLIENT_SECRET=dose0123', 'dose0123'],
      ['OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20eyJhbGciOi.x.y', 'eyJhbGciOi'],
    ] as const) {
      expect(redactSecrets(text)).not.toContain(hidden);
    }
    expect(redactSecrets('postgres://gateway:pw@db:5432/x')).toBe('postgres://gateway:***@db:5432/x');
  });

  it('is linear in the length of a message', () => {
    // The URL pattern rescanned its input from every position: 80 kB of 'a.' took 1.5 s, and of 'a://b:' 0.6 s.
    // Every part is bounded now, so these complete at once; quadratic, they would take minutes and time out.
    for (const long of ['a.'.repeat(400_000), 'a://b:'.repeat(300_000), 'token='.repeat(300_000)]) {
      redactSecrets(long);
    }
  });

  it('leaves the words of ordinary messages alone', () => {
    for (const text of [
      'refreshSyncedTable requires the admin token in an X-Admin-Token or Authorization: Bearer header',
      'basic authentication is not supported; Bearer authentication failed',
      'SELECT * FROM sessions WHERE token = $1',
      'GET https://adb-1.azuredatabricks.net:443/api/2.0/workspace?path=/Users/alice@example.com failed',
      'https://registry.npmjs.org:443/@scope/pkg',
      'DATABASE_URL: is not a valid URL (expected one such as postgres://gateway@db.example.com:5432/trips, the password after the user or in PGPASSWORD)',
      'no stream for this token: reserve one with PUT /graphql/stream',
      'password authentication failed for user "gateway"',
      'the cursor "abc" is not valid: expected a value from pageInfo.endCursor',
      'could not reach https://example.com/api/2.0/postgres/credentials',
    ]) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});

describe('a workspace token endpoint that answers without expires_in', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('fails the credential without its access token in the message or its causes', async () => {
    server = http.createServer((request, response) => {
      const origin = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
      response.writeHead(200, { 'content-type': 'application/json' });
      if (request.url?.startsWith('/oidc/.well-known')) {
        response.end(
          JSON.stringify({
            authorization_endpoint: `${origin}/oidc/v1/authorize`,
            token_endpoint: `${origin}/oidc/v1/token`,
          }),
        );
        return;
      }
      // The SDK copied this whole answer into its error, and the gateway into every log line and /ready.
      response.end(JSON.stringify({ access_token: 'workspace-access-token-secret', token_type: 'Bearer' }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const workspace = createWorkspaceClient(
      loadDatabricksConfig({
        DATABRICKS_HOST: host,
        DATABRICKS_CLIENT_ID: 'cid',
        DATABRICKS_CLIENT_SECRET: 'dose-secret',
      }),
      { env: {}, retryTimeoutSeconds: 1 },
    );
    const failure = await endpointCredentialIssuer(workspace, 'projects/p/branches/b/endpoints/e')
      .issue()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const described = describeError(failure);
    expect(described).toMatch(/^\[workspace-auth\]/);
    expect(described).not.toContain('workspace-access-token-secret');
    expect(described).not.toContain('dose-secret');
  });
});

describe('OTLP endpoints with credentials in the URL', () => {
  it('are logged without them, and a malformed one is quoted without them', () => {
    expect(loggableEndpoint('https://collector:otlp-secret@otel.example.com:4318')).toBe(
      'https://collector:***@otel.example.com:4318',
    );
    expect(() =>
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpcs://collector:otlp-secret@otel.example.com' }),
    ).toThrow(/^OTEL_EXPORTER_OTLP_ENDPOINT: "grpcs:\/\/collector:\*\*\*@otel\.example\.com" is not an http/);
  });
});

describe('DATABRICKS_SDK_PROXY_STRICT_SSL=false', () => {
  afterEach(() => {
    delete process.env.DATABRICKS_SDK_PROXY_STRICT_SSL;
  });

  it('is refused: the SDK would skip the certificate check of the exchange that carries the client secret', () => {
    process.env.DATABRICKS_SDK_PROXY_STRICT_SSL = 'false';
    const config = loadDatabricksConfig({
      DATABRICKS_HOST: 'https://example.cloud.databricks.com',
      DATABRICKS_CLIENT_ID: 'cid',
      DATABRICKS_CLIENT_SECRET: 'dose-secret',
    });
    expect(() => createWorkspaceClient(config, { env: {} })).toThrow(
      /^DATABRICKS_SDK_PROXY_STRICT_SSL: "false" would turn off the certificate check/,
    );
  });
});
