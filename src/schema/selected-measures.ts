import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { ALL_MEASURE_STATS, STATS, type Measure, type MeasureStat, type Stat } from '../aggregates/stats.js';

const FIELD_MEASURES: Record<string, Measure> = {
  fareAmount: 'fare',
  tripDistance: 'distance',
  durationMinutes: 'duration',
};

const isStat = (name: string): name is Stat => (STATS as readonly string[]).includes(name);

/**
 * The aggregates a tripStats / tripGroups field selects (under `stats` for
 * groups), such as `fare_avg` for `fareAmount { avg }`, so the SQL computes
 * only those. Aliases and fragments are followed; anything it cannot read (a
 * directive, which may depend on variables) falls back to every aggregate.
 */
export function selectedMeasures(info: GraphQLResolveInfo, under?: string): ReadonlySet<MeasureStat> {
  const stats = new Set<MeasureStat>();
  let unsure = false;
  /** Walks a selection set through inline fragments and fragment spreads, handing each field on. */
  const fields = (
    selectionSet: SelectionSetNode | undefined,
    onField: (name: string, field: SelectionSetNode | undefined) => void,
  ) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.directives?.length) unsure = true;
      if (selection.kind === Kind.INLINE_FRAGMENT) fields(selection.selectionSet, onField);
      else if (selection.kind === Kind.FRAGMENT_SPREAD)
        fields(info.fragments[selection.name.value]?.selectionSet, onField);
      else onField(selection.name.value, selection.selectionSet);
    }
  };
  const onStatsField = (name: string, selectionSet: SelectionSetNode | undefined) => {
    const measure = FIELD_MEASURES[name];
    if (!measure) return;
    fields(selectionSet, (stat) => {
      if (isStat(stat)) stats.add(`${measure}_${stat}`);
    });
  };
  const onField = under
    ? (name: string, selectionSet: SelectionSetNode | undefined) => {
        if (name === under) fields(selectionSet, onStatsField);
      }
    : onStatsField;
  for (const node of info.fieldNodes) fields(node.selectionSet, onField);
  return unsure ? ALL_MEASURE_STATS : stats;
}
