import { Kind, parse } from 'graphql';
import type { LimitsConfig } from '../config/env.js';
import { costOptions, operationCost } from './plugins/query-cost.js';

/**
 * The page size the dashboard asks for (web/src/trips/useTrips.ts PAGE_SIZE; test/dashboard-limits.test.ts
 * keeps the two equal). The gateway cannot read it from the page, which is built apart.
 */
export const DASHBOARD_PAGE_SIZE = 100;

/**
 * What in the configured limits would refuse the dashboard's own operations (its persisted documents, with
 * the page size it asks for): MAX_PAGE_SIZE or MAX_QUERY_COST set below them left the page showing only an
 * error. Said at startup, with the value that would do.
 */
export function dashboardLimitProblems(documents: Iterable<string>, limits: LimitsConfig): string[] {
  const problems: string[] = [];
  if (limits.maxPageSize < DASHBOARD_PAGE_SIZE) {
    problems.push(
      `MAX_PAGE_SIZE=${limits.maxPageSize} refuses the dashboard's pages of ${DASHBOARD_PAGE_SIZE} trips; ` +
        `set it to ${DASHBOARD_PAGE_SIZE} or more`,
    );
  }
  const options = costOptions(limits);
  for (const text of documents) {
    const document = parse(text);
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'query' || !definition.name)
        continue;
      const name = definition.name.value;
      const cost = operationCost(document, name, { first: DASHBOARD_PAGE_SIZE }, options);
      if (cost !== undefined && cost > limits.maxCost) {
        problems.push(
          `MAX_QUERY_COST=${limits.maxCost} refuses the dashboard's ${name} (it costs ${Math.ceil(cost)}); ` +
            `set it to ${Math.ceil(cost)} or more`,
        );
      }
    }
  }
  return problems;
}
