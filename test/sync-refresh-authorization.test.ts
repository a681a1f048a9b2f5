import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { authorizeRefresh, RefreshForbiddenError } from '../src/sync/refresh-authorization.js';

const TOKEN = 'c2f1e0d9b8a7c6b5a4f3e2d1c0b9a8f7';
const onApps = loadDatabricksConfig({
  DATABRICKS_APP_NAME: 'lakebase-graphql',
  GATEWAY_ADMINS: 'ada@example.com,4711',
  GATEWAY_ADMIN_TOKEN: TOKEN,
}).admin;

function denial(headers: Record<string, string>, admin = onApps): RefreshForbiddenError {
  try {
    authorizeRefresh(new Headers(headers), admin);
  } catch (error) {
    expect(error).toBeInstanceOf(RefreshForbiddenError);
    return error as RefreshForbiddenError;
  }
  throw new Error(`expected ${JSON.stringify(headers)} to be denied`);
}

describe('authorizeRefresh', () => {
  it('allows an admin identity forwarded by Databricks Apps in X-Forwarded-Email, in any case', () => {
    expect(authorizeRefresh(new Headers({ 'X-Forwarded-Email': 'Ada@Example.com' }), onApps)).toEqual({
      via: 'identity',
      principal: 'ada@example.com',
    });
  });

  it('decides on one header only: an admin id in another identity header does not count', () => {
    // The proxy sets X-Forwarded-Email for this caller (bob); a caller-sent X-Forwarded-User must not win.
    denial({ 'X-Forwarded-Email': 'bob@example.com', 'X-Forwarded-User': '4711' });
    denial({ 'X-Forwarded-User': '4711' });
    denial({ 'X-Forwarded-Preferred-Username': 'ada@example.com' });
    const byUserId = loadDatabricksConfig({
      DATABRICKS_APP_NAME: 'lakebase-graphql',
      GATEWAY_ADMINS: '4711',
      GATEWAY_ADMIN_IDENTITY_HEADER: 'X-Forwarded-User',
    }).admin;
    expect(authorizeRefresh(new Headers({ 'X-Forwarded-User': '4711' }), byUserId)).toMatchObject({
      principal: '4711',
    });
    denial({ 'X-Forwarded-Email': '4711' }, byUserId);
    expect(() => loadDatabricksConfig({ GATEWAY_ADMIN_IDENTITY_HEADER: 'X-Real-Ip' })).toThrow(
      /GATEWAY_ADMIN_IDENTITY_HEADER/,
    );
  });

  it('allows the admin token as X-Admin-Token or bearer token', () => {
    expect(authorizeRefresh(new Headers({ 'X-Admin-Token': TOKEN }), onApps)).toEqual({ via: 'admin-token' });
    expect(authorizeRefresh(new Headers({ Authorization: `Bearer ${TOKEN}` }), onApps)).toEqual({
      via: 'admin-token',
    });
  });

  it('denies others with FORBIDDEN, saying what is needed, never echoing a header value', () => {
    const hostile = '<script>bob@example.com</script>';
    const error = denial({ 'X-Forwarded-Email': hostile, 'X-Admin-Token': `${TOKEN}x` });
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.extensions.code).toBe('FORBIDDEN');
    expect(error.message).toBe(
      'refreshSyncedTable requires a user listed in GATEWAY_ADMINS (by the x-forwarded-email header of the ' +
        'Databricks Apps proxy) or the admin token in an X-Admin-Token or Authorization: Bearer header. ' +
        'The signed-in user is not in GATEWAY_ADMINS.',
    );
    expect(error.message).not.toContain('bob');
    expect(error.message).not.toContain(`${TOKEN}x`);
    expect(denial({}).message).not.toContain('signed-in user');
  });

  it('a non-admin bearer token (e.g. a Databricks token) does not block an admin identity', () => {
    expect(
      authorizeRefresh(
        new Headers({ Authorization: 'Bearer dapi-other', 'X-Forwarded-Email': 'ada@example.com' }),
        onApps,
      ),
    ).toMatchObject({ via: 'identity' });
  });

  it('ignores forwarded identity headers outside Databricks Apps', () => {
    const local = loadDatabricksConfig({ GATEWAY_ADMINS: 'ada@example.com' }).admin;
    const error = denial({ 'X-Forwarded-Email': 'ada@example.com' }, local);
    expect(error.message).toContain('identity headers are trusted only on Databricks Apps');
  });

  it('is disabled, with the settings to enable it, when nothing is configured', () => {
    const error = denial({ 'X-Forwarded-Email': 'ada@example.com' }, loadDatabricksConfig({}).admin);
    expect(error.message).toContain('no refresh administrators are configured');
    expect(error.message).toContain('GATEWAY_ADMINS');
    expect(error.message).toContain('GATEWAY_ADMIN_TOKEN');
  });
});
