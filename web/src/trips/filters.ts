/**
 * The table's filters, kept in the URL (?borough=&zip=&fareMin=&fareMax=&from=&to=)
 * so a filtered view can be shared and survives a reload, mapped to TripFilter.
 */
import type { TripFilter } from '../gql/graphql';

export interface Filters {
  borough: string;
  zip: string;
  fareMin: string;
  fareMax: string;
  /** Pickup time range, ISO instants (or datetime-local values, read in the browser's zone). */
  from: string;
  to: string;
}

const KEYS = ['borough', 'zip', 'fareMin', 'fareMax', 'from', 'to'] as const;

export const BOROUGHS = ['Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island'];

export function readFilters(search: string): Filters {
  const params = new URLSearchParams(search);
  return Object.fromEntries(KEYS.map((key) => [key, params.get(key)?.trim() ?? ''])) as unknown as Filters;
}

export function filtersToSearch(filters: Filters): string {
  const params = new URLSearchParams();
  for (const key of KEYS) if (filters[key] !== '') params.set(key, filters[key]);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function instant(value: string): string | undefined {
  if (value === '') return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

function number(value: string): number | undefined {
  if (value === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Null when no filter is set. Values that do not parse are left out (the inputs show them as invalid). */
export function toTripFilter(filters: Filters): TripFilter | null {
  const filter: TripFilter = {};
  if (filters.borough !== '') filter.pickupBorough = { eq: filters.borough };
  const zip = number(filters.zip);
  if (zip !== undefined && Number.isInteger(zip)) filter.pickupZip = { eq: zip };
  const fareMin = number(filters.fareMin);
  const fareMax = number(filters.fareMax);
  if (fareMin !== undefined || fareMax !== undefined) filter.fareAmount = { gte: fareMin, lte: fareMax };
  const from = instant(filters.from);
  const to = instant(filters.to);
  if (from !== undefined || to !== undefined) filter.pickupAt = { gte: from, lt: to };
  return Object.keys(filter).length === 0 ? null : filter;
}
