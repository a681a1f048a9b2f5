/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment TripFields on Trip {\n    id\n    tripId\n    pickupAt\n    dropoffAt\n    fareAmount\n    tripDistance\n    pickupZip\n    dropoffZip\n    pickupZone {\n      zip\n      borough\n    }\n  }\n": typeof types.TripFieldsFragmentDoc,
    "\n  query TripsPage($first: Int!, $after: String, $filter: TripFilter, $orderBy: [TripOrderBy!] = [PICKUP_AT_DESC]) {\n    trips(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      streamCursor\n      edges {\n        cursor\n        node {\n          ...TripFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.TripsPageDocument,
    "\n  subscription TripChanges($filter: TripFilter, $after: String) {\n    tripChanges(filter: $filter, after: $after) {\n      cursor\n      changes {\n        kind\n        tripId\n        trip {\n          ...TripFields\n        }\n      }\n    }\n  }\n": typeof types.TripChangesDocument,
    "\n  query TripCharts($filter: TripFilter) {\n    byHour: tripGroups(\n      filter: $filter\n      groupBy: [PICKUP_HOUR_OF_DAY]\n      orderBy: [KEY_ASC]\n      first: 24\n      timeZone: \"America/New_York\"\n    ) {\n      pickupHourOfDay\n      stats {\n        count\n      }\n    }\n    byBorough: tripGroups(filter: $filter, groupBy: [PICKUP_BOROUGH], orderBy: [KEY_ASC], first: 10) {\n      pickupBorough\n      stats {\n        count\n        fareAmount {\n          avg\n        }\n      }\n    }\n  }\n": typeof types.TripChartsDocument,
    "\n  query SyncPanel {\n    syncStatus {\n      ...SyncStatusFields\n    }\n  }\n": typeof types.SyncPanelDocument,
    "\n  query Viewer {\n    viewer {\n      canRefresh\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  fragment SyncStatusFields on SyncStatus {\n    tableName\n    state\n    schedulingPolicy\n    message\n    stalenessSeconds\n    checkedAt\n    lastSync {\n      sourceCommitVersion\n      sourceCommitAt\n      endedAt\n    }\n  }\n": typeof types.SyncStatusFieldsFragmentDoc,
    "\n  subscription SyncStatusChanged {\n    syncStatusChanged {\n      ...SyncStatusFields\n    }\n  }\n": typeof types.SyncStatusChangedDocument,
    "\n  mutation RefreshSyncedTable {\n    refreshSyncedTable {\n      updateId\n      status {\n        ...SyncStatusFields\n      }\n    }\n  }\n": typeof types.RefreshSyncedTableDocument,
};
const documents: Documents = {
    "\n  fragment TripFields on Trip {\n    id\n    tripId\n    pickupAt\n    dropoffAt\n    fareAmount\n    tripDistance\n    pickupZip\n    dropoffZip\n    pickupZone {\n      zip\n      borough\n    }\n  }\n": types.TripFieldsFragmentDoc,
    "\n  query TripsPage($first: Int!, $after: String, $filter: TripFilter, $orderBy: [TripOrderBy!] = [PICKUP_AT_DESC]) {\n    trips(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      streamCursor\n      edges {\n        cursor\n        node {\n          ...TripFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.TripsPageDocument,
    "\n  subscription TripChanges($filter: TripFilter, $after: String) {\n    tripChanges(filter: $filter, after: $after) {\n      cursor\n      changes {\n        kind\n        tripId\n        trip {\n          ...TripFields\n        }\n      }\n    }\n  }\n": types.TripChangesDocument,
    "\n  query TripCharts($filter: TripFilter) {\n    byHour: tripGroups(\n      filter: $filter\n      groupBy: [PICKUP_HOUR_OF_DAY]\n      orderBy: [KEY_ASC]\n      first: 24\n      timeZone: \"America/New_York\"\n    ) {\n      pickupHourOfDay\n      stats {\n        count\n      }\n    }\n    byBorough: tripGroups(filter: $filter, groupBy: [PICKUP_BOROUGH], orderBy: [KEY_ASC], first: 10) {\n      pickupBorough\n      stats {\n        count\n        fareAmount {\n          avg\n        }\n      }\n    }\n  }\n": types.TripChartsDocument,
    "\n  query SyncPanel {\n    syncStatus {\n      ...SyncStatusFields\n    }\n  }\n": types.SyncPanelDocument,
    "\n  query Viewer {\n    viewer {\n      canRefresh\n    }\n  }\n": types.ViewerDocument,
    "\n  fragment SyncStatusFields on SyncStatus {\n    tableName\n    state\n    schedulingPolicy\n    message\n    stalenessSeconds\n    checkedAt\n    lastSync {\n      sourceCommitVersion\n      sourceCommitAt\n      endedAt\n    }\n  }\n": types.SyncStatusFieldsFragmentDoc,
    "\n  subscription SyncStatusChanged {\n    syncStatusChanged {\n      ...SyncStatusFields\n    }\n  }\n": types.SyncStatusChangedDocument,
    "\n  mutation RefreshSyncedTable {\n    refreshSyncedTable {\n      updateId\n      status {\n        ...SyncStatusFields\n      }\n    }\n  }\n": types.RefreshSyncedTableDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TripFields on Trip {\n    id\n    tripId\n    pickupAt\n    dropoffAt\n    fareAmount\n    tripDistance\n    pickupZip\n    dropoffZip\n    pickupZone {\n      zip\n      borough\n    }\n  }\n"): (typeof documents)["\n  fragment TripFields on Trip {\n    id\n    tripId\n    pickupAt\n    dropoffAt\n    fareAmount\n    tripDistance\n    pickupZip\n    dropoffZip\n    pickupZone {\n      zip\n      borough\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TripsPage($first: Int!, $after: String, $filter: TripFilter, $orderBy: [TripOrderBy!] = [PICKUP_AT_DESC]) {\n    trips(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      streamCursor\n      edges {\n        cursor\n        node {\n          ...TripFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query TripsPage($first: Int!, $after: String, $filter: TripFilter, $orderBy: [TripOrderBy!] = [PICKUP_AT_DESC]) {\n    trips(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      streamCursor\n      edges {\n        cursor\n        node {\n          ...TripFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription TripChanges($filter: TripFilter, $after: String) {\n    tripChanges(filter: $filter, after: $after) {\n      cursor\n      changes {\n        kind\n        tripId\n        trip {\n          ...TripFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription TripChanges($filter: TripFilter, $after: String) {\n    tripChanges(filter: $filter, after: $after) {\n      cursor\n      changes {\n        kind\n        tripId\n        trip {\n          ...TripFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TripCharts($filter: TripFilter) {\n    byHour: tripGroups(\n      filter: $filter\n      groupBy: [PICKUP_HOUR_OF_DAY]\n      orderBy: [KEY_ASC]\n      first: 24\n      timeZone: \"America/New_York\"\n    ) {\n      pickupHourOfDay\n      stats {\n        count\n      }\n    }\n    byBorough: tripGroups(filter: $filter, groupBy: [PICKUP_BOROUGH], orderBy: [KEY_ASC], first: 10) {\n      pickupBorough\n      stats {\n        count\n        fareAmount {\n          avg\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query TripCharts($filter: TripFilter) {\n    byHour: tripGroups(\n      filter: $filter\n      groupBy: [PICKUP_HOUR_OF_DAY]\n      orderBy: [KEY_ASC]\n      first: 24\n      timeZone: \"America/New_York\"\n    ) {\n      pickupHourOfDay\n      stats {\n        count\n      }\n    }\n    byBorough: tripGroups(filter: $filter, groupBy: [PICKUP_BOROUGH], orderBy: [KEY_ASC], first: 10) {\n      pickupBorough\n      stats {\n        count\n        fareAmount {\n          avg\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SyncPanel {\n    syncStatus {\n      ...SyncStatusFields\n    }\n  }\n"): (typeof documents)["\n  query SyncPanel {\n    syncStatus {\n      ...SyncStatusFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      canRefresh\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      canRefresh\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SyncStatusFields on SyncStatus {\n    tableName\n    state\n    schedulingPolicy\n    message\n    stalenessSeconds\n    checkedAt\n    lastSync {\n      sourceCommitVersion\n      sourceCommitAt\n      endedAt\n    }\n  }\n"): (typeof documents)["\n  fragment SyncStatusFields on SyncStatus {\n    tableName\n    state\n    schedulingPolicy\n    message\n    stalenessSeconds\n    checkedAt\n    lastSync {\n      sourceCommitVersion\n      sourceCommitAt\n      endedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription SyncStatusChanged {\n    syncStatusChanged {\n      ...SyncStatusFields\n    }\n  }\n"): (typeof documents)["\n  subscription SyncStatusChanged {\n    syncStatusChanged {\n      ...SyncStatusFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshSyncedTable {\n    refreshSyncedTable {\n      updateId\n      status {\n        ...SyncStatusFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshSyncedTable {\n    refreshSyncedTable {\n      updateId\n      status {\n        ...SyncStatusFields\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;