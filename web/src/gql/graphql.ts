/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type BigIntFilter = {
  eq?: string | null | undefined;
  gt?: string | null | undefined;
  gte?: string | null | undefined;
  /** Must not be empty. */
  in?: Array<string> | null | undefined;
  lt?: string | null | undefined;
  lte?: string | null | undefined;
};

/** Conditions on the borough of a ZIP code, from the ZIP reference list (as `Zone.borough`): "Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island". A ZIP that is NULL or not in the list has a NULL borough, which ne and notIn never match (SQL semantics). */
export type BoroughFilter = {
  eq?: string | null | undefined;
  /** Must not be empty. */
  in?: Array<string> | null | undefined;
  isNull?: boolean | null | undefined;
  ne?: string | null | undefined;
  /** Must not be empty. */
  notIn?: Array<string> | null | undefined;
};

export type DateTimeFilter = {
  gt?: string | null | undefined;
  gte?: string | null | undefined;
  isNull?: boolean | null | undefined;
  lt?: string | null | undefined;
  lte?: string | null | undefined;
};

export type FloatFilter = {
  eq?: number | null | undefined;
  gt?: number | null | undefined;
  gte?: number | null | undefined;
  isNull?: boolean | null | undefined;
  lt?: number | null | undefined;
  lte?: number | null | undefined;
};

/** Integer comparisons. ne and notIn never match NULL (SQL semantics); use isNull to include NULLs. */
export type IntFilter = {
  eq?: number | null | undefined;
  gt?: number | null | undefined;
  gte?: number | null | undefined;
  /** Must not be empty. */
  in?: Array<number> | null | undefined;
  isNull?: boolean | null | undefined;
  lt?: number | null | undefined;
  lte?: number | null | undefined;
  ne?: number | null | undefined;
  /** Must not be empty. */
  notIn?: Array<number> | null | undefined;
};

export type SyncSchedulingPolicy =
  | 'CONTINUOUS'
  | 'SNAPSHOT'
  | 'TRIGGERED';

/** The synced table's detailed_state, without the SYNCED_TABLE_ prefix. */
export type SyncedTableState =
  | 'OFFLINE'
  | 'OFFLINE_FAILED'
  | 'ONLINE'
  | 'ONLINE_CONTINUOUS_UPDATE'
  | 'ONLINE_NO_PENDING_UPDATE'
  | 'ONLINE_PIPELINE_FAILED'
  | 'ONLINE_TRIGGERED_UPDATE'
  | 'ONLINE_UPDATING_PIPELINE_RESOURCES'
  | 'PROVISIONING'
  | 'PROVISIONING_INITIAL_SNAPSHOT'
  | 'PROVISIONING_PIPELINE_RESOURCES'
  | 'UNKNOWN';

export type TripChangeKind =
  | 'DELETE'
  | 'INSERT'
  | 'UPDATE';

/** Conditions on trips; fields combine with AND. An operator given as null is ignored. `not` is the exact complement of its filter, rows with NULLs included. */
export type TripFilter = {
  /** All must match. Must not be empty. */
  and?: Array<TripFilter> | null | undefined;
  dropoffAt?: DateTimeFilter | null | undefined;
  /** The borough of the dropoff ZIP. */
  dropoffBorough?: BoroughFilter | null | undefined;
  dropoffZip?: IntFilter | null | undefined;
  fareAmount?: FloatFilter | null | undefined;
  not?: TripFilter | null | undefined;
  /** At least one must match. Must not be empty. */
  or?: Array<TripFilter> | null | undefined;
  pickupAt?: DateTimeFilter | null | undefined;
  /** The borough of the pickup ZIP. Same trips as a pickupZip list of that borough, and faster to aggregate. */
  pickupBorough?: BoroughFilter | null | undefined;
  pickupZip?: IntFilter | null | undefined;
  tripDistance?: FloatFilter | null | undefined;
  tripId?: BigIntFilter | null | undefined;
};

/** Orderings for trips. The primary key always breaks ties, so every ordering is total. NULL sorts last ascending, first descending. */
export type TripOrderBy =
  | 'DROPOFF_AT_ASC'
  | 'DROPOFF_AT_DESC'
  | 'FARE_AMOUNT_ASC'
  | 'FARE_AMOUNT_DESC'
  | 'PICKUP_AT_ASC'
  | 'PICKUP_AT_DESC'
  | 'TRIP_DISTANCE_ASC'
  | 'TRIP_DISTANCE_DESC'
  | 'TRIP_ID_ASC'
  | 'TRIP_ID_DESC';

export type TripFieldsFragment = { id: string, tripId: string, pickupAt: string | null, dropoffAt: string | null, fareAmount: number | null, tripDistance: number | null, pickupZip: number | null, dropoffZip: number | null, pickupZone: { zip: number, borough: string | null } | null };

export type TripsPageQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  filter?: TripFilter | null | undefined;
  orderBy?: Array<TripOrderBy> | TripOrderBy | null | undefined;
}>;


export type TripsPageQuery = { trips: { totalCount: string, streamCursor: string, edges: Array<{ cursor: string, node: { id: string, tripId: string, pickupAt: string | null, dropoffAt: string | null, fareAmount: number | null, tripDistance: number | null, pickupZip: number | null, dropoffZip: number | null, pickupZone: { zip: number, borough: string | null } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type TripChangesSubscriptionVariables = Exact<{
  filter?: TripFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type TripChangesSubscription = { tripChanges: { cursor: string, changes: Array<{ kind: TripChangeKind, tripId: string, trip: { id: string, tripId: string, pickupAt: string | null, dropoffAt: string | null, fareAmount: number | null, tripDistance: number | null, pickupZip: number | null, dropoffZip: number | null, pickupZone: { zip: number, borough: string | null } | null } | null }> } };

export type TripChartsQueryVariables = Exact<{
  filter?: TripFilter | null | undefined;
}>;


export type TripChartsQuery = { byHour: Array<{ pickupHourOfDay: number | null, stats: { count: string } }>, byBorough: Array<{ pickupBorough: string | null, stats: { count: string, fareAmount: { avg: number | null } } }> };

export type SyncPanelQueryVariables = Exact<{ [key: string]: never; }>;


export type SyncPanelQuery = { syncStatus: { tableName: string, state: SyncedTableState, schedulingPolicy: SyncSchedulingPolicy | null, message: string | null, stalenessSeconds: number | null, checkedAt: string, lastSync: { sourceCommitVersion: string | null, sourceCommitAt: string | null, endedAt: string | null } | null } };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { canRefresh: boolean } };

export type SyncStatusFieldsFragment = { tableName: string, state: SyncedTableState, schedulingPolicy: SyncSchedulingPolicy | null, message: string | null, stalenessSeconds: number | null, checkedAt: string, lastSync: { sourceCommitVersion: string | null, sourceCommitAt: string | null, endedAt: string | null } | null };

export type SyncStatusChangedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type SyncStatusChangedSubscription = { syncStatusChanged: { tableName: string, state: SyncedTableState, schedulingPolicy: SyncSchedulingPolicy | null, message: string | null, stalenessSeconds: number | null, checkedAt: string, lastSync: { sourceCommitVersion: string | null, sourceCommitAt: string | null, endedAt: string | null } | null } };

export type RefreshSyncedTableMutationVariables = Exact<{ [key: string]: never; }>;


export type RefreshSyncedTableMutation = { refreshSyncedTable: { updateId: string | null, status: { tableName: string, state: SyncedTableState, schedulingPolicy: SyncSchedulingPolicy | null, message: string | null, stalenessSeconds: number | null, checkedAt: string, lastSync: { sourceCommitVersion: string | null, sourceCommitAt: string | null, endedAt: string | null } | null } } };

export const TripFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TripFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trip"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"tripId"}},{"kind":"Field","name":{"kind":"Name","value":"pickupAt"}},{"kind":"Field","name":{"kind":"Name","value":"dropoffAt"}},{"kind":"Field","name":{"kind":"Name","value":"fareAmount"}},{"kind":"Field","name":{"kind":"Name","value":"tripDistance"}},{"kind":"Field","name":{"kind":"Name","value":"pickupZip"}},{"kind":"Field","name":{"kind":"Name","value":"dropoffZip"}},{"kind":"Field","name":{"kind":"Name","value":"pickupZone"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"zip"}},{"kind":"Field","name":{"kind":"Name","value":"borough"}}]}}]}}]} as unknown as DocumentNode<TripFieldsFragment, unknown>;
export const SyncStatusFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SyncStatusFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"SyncStatus"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tableName"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"schedulingPolicy"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"stalenessSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"checkedAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastSync"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sourceCommitVersion"}},{"kind":"Field","name":{"kind":"Name","value":"sourceCommitAt"}},{"kind":"Field","name":{"kind":"Name","value":"endedAt"}}]}}]}}]} as unknown as DocumentNode<SyncStatusFieldsFragment, unknown>;
export const TripsPageDocument = {"__meta__":{"hash":"sha256:2b6f701024d3bae9c135d0f6873a4bad13544f2a3acae016494bdaba5b04fdd2"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TripsPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TripFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"TripOrderBy"}}}},"defaultValue":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"PICKUP_AT_DESC"}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"trips"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"streamCursor"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TripFields"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TripFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trip"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"tripId"}},{"kind":"Field","name":{"kind":"Name","value":"pickupAt"}},{"kind":"Field","name":{"kind":"Name","value":"dropoffAt"}},{"kind":"Field","name":{"kind":"Name","value":"fareAmount"}},{"kind":"Field","name":{"kind":"Name","value":"tripDistance"}},{"kind":"Field","name":{"kind":"Name","value":"pickupZip"}},{"kind":"Field","name":{"kind":"Name","value":"dropoffZip"}},{"kind":"Field","name":{"kind":"Name","value":"pickupZone"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"zip"}},{"kind":"Field","name":{"kind":"Name","value":"borough"}}]}}]}}]} as unknown as DocumentNode<TripsPageQuery, TripsPageQueryVariables>;
export const TripChangesDocument = {"__meta__":{"hash":"sha256:8476095839085a9ab556babdd094e16dc4eb45f768fd5e9e0bdbc18d3bad5eb9"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"TripChanges"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TripFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tripChanges"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"changes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"tripId"}},{"kind":"Field","name":{"kind":"Name","value":"trip"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"TripFields"}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"TripFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Trip"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"tripId"}},{"kind":"Field","name":{"kind":"Name","value":"pickupAt"}},{"kind":"Field","name":{"kind":"Name","value":"dropoffAt"}},{"kind":"Field","name":{"kind":"Name","value":"fareAmount"}},{"kind":"Field","name":{"kind":"Name","value":"tripDistance"}},{"kind":"Field","name":{"kind":"Name","value":"pickupZip"}},{"kind":"Field","name":{"kind":"Name","value":"dropoffZip"}},{"kind":"Field","name":{"kind":"Name","value":"pickupZone"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"zip"}},{"kind":"Field","name":{"kind":"Name","value":"borough"}}]}}]}}]} as unknown as DocumentNode<TripChangesSubscription, TripChangesSubscriptionVariables>;
export const TripChartsDocument = {"__meta__":{"hash":"sha256:c6caeea987d520fe7c233eea0308559fbd9e61a20e0f31f5c7827e6948a8adfa"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"TripCharts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"TripFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","alias":{"kind":"Name","value":"byHour"},"name":{"kind":"Name","value":"tripGroups"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"groupBy"},"value":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"PICKUP_HOUR_OF_DAY"}]}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"KEY_ASC"}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"24"}},{"kind":"Argument","name":{"kind":"Name","value":"timeZone"},"value":{"kind":"StringValue","value":"America/New_York","block":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"pickupHourOfDay"}},{"kind":"Field","name":{"kind":"Name","value":"stats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"count"}}]}}]}},{"kind":"Field","alias":{"kind":"Name","value":"byBorough"},"name":{"kind":"Name","value":"tripGroups"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"groupBy"},"value":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"PICKUP_BOROUGH"}]}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"ListValue","values":[{"kind":"EnumValue","value":"KEY_ASC"}]}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"10"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"pickupBorough"}},{"kind":"Field","name":{"kind":"Name","value":"stats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"count"}},{"kind":"Field","name":{"kind":"Name","value":"fareAmount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"avg"}}]}}]}}]}}]}}]} as unknown as DocumentNode<TripChartsQuery, TripChartsQueryVariables>;
export const SyncPanelDocument = {"__meta__":{"hash":"sha256:ea7def74b4331ddac0596f248447bf958a325ad3eae67bbde5708552aa617911"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SyncPanel"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"SyncStatusFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SyncStatusFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"SyncStatus"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tableName"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"schedulingPolicy"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"stalenessSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"checkedAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastSync"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sourceCommitVersion"}},{"kind":"Field","name":{"kind":"Name","value":"sourceCommitAt"}},{"kind":"Field","name":{"kind":"Name","value":"endedAt"}}]}}]}}]} as unknown as DocumentNode<SyncPanelQuery, SyncPanelQueryVariables>;
export const ViewerDocument = {"__meta__":{"hash":"sha256:c0c256ee9c042479c330239a9d380d70b10828566899f6ec2b360a7ccd7999e4"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"canRefresh"}}]}}]}}]} as unknown as DocumentNode<ViewerQuery, ViewerQueryVariables>;
export const SyncStatusChangedDocument = {"__meta__":{"hash":"sha256:e441583888ce651151a39922d7d1d70a4e62fdade3446be6fa43edb072719486"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"SyncStatusChanged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncStatusChanged"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"SyncStatusFields"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SyncStatusFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"SyncStatus"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tableName"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"schedulingPolicy"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"stalenessSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"checkedAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastSync"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sourceCommitVersion"}},{"kind":"Field","name":{"kind":"Name","value":"sourceCommitAt"}},{"kind":"Field","name":{"kind":"Name","value":"endedAt"}}]}}]}}]} as unknown as DocumentNode<SyncStatusChangedSubscription, SyncStatusChangedSubscriptionVariables>;
export const RefreshSyncedTableDocument = {"__meta__":{"hash":"sha256:8108e7217de78bf63909824880e224b1ab0a3c08d51bec26d23ba3e3b5b20338"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RefreshSyncedTable"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"refreshSyncedTable"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateId"}},{"kind":"Field","name":{"kind":"Name","value":"status"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"SyncStatusFields"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SyncStatusFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"SyncStatus"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"tableName"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"schedulingPolicy"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"stalenessSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"checkedAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastSync"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sourceCommitVersion"}},{"kind":"Field","name":{"kind":"Name","value":"sourceCommitAt"}},{"kind":"Field","name":{"kind":"Name","value":"endedAt"}}]}}]}}]} as unknown as DocumentNode<RefreshSyncedTableMutation, RefreshSyncedTableMutationVariables>;