import type { Plugin } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayContext } from '../src/schema/context.js';
import { buildSchema } from '../src/schema/index.js';
import { createGateway, type Gateway } from '../src/server/http/gateway.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

/**
 * useValidationCache (server/plugins/document-limits.ts) replaces yoga's validation cache: a document is
 * validated once, with every rule the gateway adds, and later requests get the same answer, errors included.
 */
describe('validation cache', () => {
  let gw: TestGateway;
  let gateway: Gateway;
  let validations = 0;
  beforeAll(async () => {
    gw = await startTestGateway('validation_cache');
    // Sits after the cache, so its validate function runs only when the cache missed.
    const counting: Plugin<GatewayContext> = {
      onValidate({ validateFn, setValidationFn }) {
        setValidationFn((...args) => {
          validations += 1;
          return validateFn(...args);
        });
      },
    };
    gateway = createGateway({ schema: buildSchema(), services: gw.app.services, plugins: [counting] });
  });
  afterAll(() => gw.close());

  const post = async (query: string) => {
    const response = await gateway.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { data?: unknown; errors?: { message: string }[] },
    };
  };

  it('validates a document once and answers it the same way every time', async () => {
    const query = '{ trips(first: 1) { totalCount } }';
    const before = validations;
    const first = await post(query);
    const counted = validations;
    expect(counted - before).toBe(1);
    const second = await post(query);
    expect(second).toEqual(first);
    expect(first.body.errors).toBeUndefined();
    expect(validations).toBe(counted);
  });

  it('keeps the errors of an invalid document, including those of the rules the gateway adds', async () => {
    const unknownField = '{ trips(first: 1) { noSuchField } }';
    const counted = validations;
    const first = await post(unknownField);
    expect(first.body.errors?.[0]?.message).toMatch(/noSuchField/);
    expect(await post(unknownField)).toEqual(first);
    expect(validations - counted).toBe(1);
    // A list literal over the limit: an error of a rule the gateway adds (request-guards.ts), cached as well.
    const longList = `{ trips(first: 1, filter: { tripId: { in: [${Array.from({ length: 5000 }, (_, i) => `"${i}"`).join(',')}] } }) { totalCount } }`;
    const before = validations;
    const listed = await post(longList);
    expect(listed.body.errors?.[0]?.message).toMatch(/lists 5000 items/);
    expect(await post(longList)).toEqual(listed);
    expect(validations - before).toBe(1);
  });
});
