/**
 * The limits the dashboard's own operations need, said at startup: with MAX_PAGE_SIZE or MAX_QUERY_COST
 * below them, the page showed nothing but "query cost 1901 exceeds the limit".
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { createLogger } from '../src/logger.js';
import { DASHBOARD_PAGE_SIZE, dashboardLimitProblems } from '../src/server/dashboard-limits.js';
import { readPersistedManifest } from '../src/server/plugins/persisted-operations.js';
import { startTestGateway } from './support/gateway.js';

const MANIFEST = 'web/src/gql/persisted-documents.json';
const documents = () => readPersistedManifest(MANIFEST).values();
const limitsWith = (env: Record<string, string>) => loadConfig({ DATABASE_URL: 'postgres://x@h/d', ...env }).limits;
const tripsPage = () => [...documents()].find((text) => text.includes('query TripsPage'))!;

describe("the dashboard's limits", () => {
  it('knows the page size the dashboard asks for', () => {
    const source = readFileSync('web/src/trips/useTrips.ts', 'utf8');
    expect(Number(/export const PAGE_SIZE = (\d+);/.exec(source)?.[1])).toBe(DASHBOARD_PAGE_SIZE);
  });

  it('finds nothing to say with the defaults, and names both settings when they are too low', () => {
    expect(dashboardLimitProblems(documents(), limitsWith({}))).toEqual([]);
    const problems = dashboardLimitProblems(documents(), limitsWith({ MAX_PAGE_SIZE: '50', MAX_QUERY_COST: '1000' }));
    expect(problems).toEqual([
      "MAX_PAGE_SIZE=50 refuses the dashboard's pages of 100 trips; set it to 100 or more",
      expect.stringMatching(
        /^MAX_QUERY_COST=1000 refuses the dashboard's TripsPage \(it costs \d+\); set it to \d+ or more$/,
      ),
    ]);
  });

  it('names the cost the gateway really charges: at that limit the page loads, one below it is refused', async () => {
    const [problem] = dashboardLimitProblems([tripsPage()], limitsWith({ MAX_QUERY_COST: '50' }));
    const cost = Number(/it costs (\d+)/.exec(problem!)![1]);
    for (const [limit, refused] of [
      [cost, false],
      [cost - 1, true],
    ] as const) {
      const lines: string[] = [];
      const logger = createLogger('warn', {}, (_level, line) => lines.push(line));
      const gw = await startTestGateway('dashboard_limits', { MAX_QUERY_COST: String(limit) }, { logger });
      try {
        const { body } = await gw.query(tripsPage(), { first: DASHBOARD_PAGE_SIZE });
        expect(body.errors?.[0]?.extensions?.code === 'QUERY_TOO_COMPLEX', `limit ${limit}`).toBe(refused);
        expect(
          lines.some((line) => line.includes('the dashboard at / cannot load: MAX_QUERY_COST')),
          `limit ${limit}`,
        ).toBe(refused);
      } finally {
        await gw.close();
      }
    }
  });
});
