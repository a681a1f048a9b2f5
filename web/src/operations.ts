/**
 * Every GraphQL operation the dashboard sends. Typed by GraphQL Code Generator
 * (web/src/gql, from schema.graphql), and listed in its persisted documents.
 */
import { graphql } from './gql';

export const TripFieldsFragment = graphql(`
  fragment TripFields on Trip {
    id
    tripId
    pickupAt
    dropoffAt
    fareAmount
    tripDistance
    pickupZip
    dropoffZip
    pickupZone {
      zip
      borough
    }
  }
`);

export const TripsPageQuery = graphql(`
  query TripsPage($first: Int!, $after: String, $filter: TripFilter, $orderBy: [TripOrderBy!] = [PICKUP_AT_DESC]) {
    trips(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      totalCount
      streamCursor
      edges {
        cursor
        node {
          ...TripFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const TripChangesSubscription = graphql(`
  subscription TripChanges($filter: TripFilter, $after: String) {
    tripChanges(filter: $filter, after: $after) {
      cursor
      changes {
        kind
        tripId
        trip {
          ...TripFields
        }
      }
    }
  }
`);

export const TripChartsQuery = graphql(`
  query TripCharts($filter: TripFilter) {
    byHour: tripGroups(
      filter: $filter
      groupBy: [PICKUP_HOUR_OF_DAY]
      orderBy: [KEY_ASC]
      first: 24
      timeZone: "America/New_York"
    ) {
      pickupHourOfDay
      stats {
        count
      }
    }
    byBorough: tripGroups(filter: $filter, groupBy: [PICKUP_BOROUGH], orderBy: [KEY_ASC], first: 10) {
      pickupBorough
      stats {
        count
        fareAmount {
          avg
        }
      }
    }
  }
`);

export const SyncPanelQuery = graphql(`
  query SyncPanel {
    syncStatus {
      ...SyncStatusFields
    }
  }
`);

/**
 * Asked apart from the status: syncStatus is non-null, so when the workspace API fails the whole answer of a
 * query holding both was null, and "Sync now" went away exactly when the status could not be read.
 */
export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      canRefresh
    }
  }
`);

export const SyncStatusFieldsFragment = graphql(`
  fragment SyncStatusFields on SyncStatus {
    tableName
    state
    schedulingPolicy
    message
    stalenessSeconds
    checkedAt
    lastSync {
      sourceCommitVersion
      sourceCommitAt
      endedAt
    }
  }
`);

export const SyncStatusChangedSubscription = graphql(`
  subscription SyncStatusChanged {
    syncStatusChanged {
      ...SyncStatusFields
    }
  }
`);

export const RefreshSyncedTableMutation = graphql(`
  mutation RefreshSyncedTable {
    refreshSyncedTable {
      updateId
      status {
        ...SyncStatusFields
      }
    }
  }
`);
