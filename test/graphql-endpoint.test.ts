/**
 * The gateway's URLPattern answers yoga's endpoint check from a set of paths
 * (server/http/graphql-endpoint.ts): it must answer exactly as URLPattern
 * itself does, for the endpoint pattern and for any other.
 */
import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { describe, expect, it } from 'vitest';
import { GatewayURLPattern, GRAPHQL_ENDPOINT, GRAPHQL_PATHS } from '../src/server/http/graphql-endpoint.js';
import { startTestGateway } from './support/gateway.js';

const URLS = [
  'http://localhost/graphql',
  'http://localhost/api/graphql',
  'http://127.0.0.1:4000/graphql?query=%7B__typename%7D',
  'https://app.example.com/api/graphql?x=1#frag',
  'http://localhost/graphql/',
  'http://localhost/api/graphql/',
  'http://localhost/api/graphql/stream',
  'http://localhost/graphql/stream',
  'http://localhost/x/graphql',
  'http://localhost/apis/graphql',
  'http://localhost/api/api/graphql',
  'http://localhost/GRAPHQL',
  'http://localhost/Api/graphql',
  'http://localhost/%67raphql',
  'http://localhost/api%2Fgraphql',
  'http://localhost//graphql',
  'http://localhost/graphql;x',
  'http://localhost/',
  'http://localhost/health',
];

describe('GatewayURLPattern', () => {
  it('matches the endpoint exactly as URLPattern does', () => {
    const fast = new GatewayURLPattern({ pathname: GRAPHQL_ENDPOINT });
    const reference = new URLPattern({ pathname: GRAPHQL_ENDPOINT });
    const answers = URLS.map((url) => [url, fast.test(new URL(url))]);
    expect(answers).toEqual(URLS.map((url) => [url, reference.test(new URL(url).href)]));
    // Both answers are used: the endpoint's own paths, and at least one that is not.
    expect(answers.filter(([, matched]) => matched)).toHaveLength(4);
    for (const path of GRAPHQL_PATHS) expect(fast.test(new URL(`http://localhost${path}`))).toBe(true);
  });

  it('hands any other pattern and input to URLPattern', () => {
    const other = new GatewayURLPattern({ pathname: '/health' });
    expect(other.test(new URL('http://localhost/health'))).toBe(true);
    expect(other.test(new URL('http://localhost/graphql'))).toBe(false);
    const endpoint = new GatewayURLPattern({ pathname: GRAPHQL_ENDPOINT });
    expect(endpoint.test('http://localhost/api/graphql')).toBe(true);
    expect(endpoint.test({ pathname: '/x/graphql' })).toBe(false);
    expect(endpoint.exec({ pathname: '/api/graphql' })?.pathname.input).toBe('/api/graphql');
  });

  it('is the URLPattern the gateway gives yoga', async () => {
    const gateway = await startTestGateway('graphql_endpoint');
    try {
      expect(gateway.app.gateway.fetchAPI.URLPattern).toBe(GatewayURLPattern);
      const response = await gateway.app.gateway.fetch('http://localhost/x/graphql?query=%7B__typename%7D');
      expect(response.status).toBe(404);
    } finally {
      await gateway.close();
    }
  });
});
