import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { ALL_MEASURES, type Measure } from '../aggregates/stats.js';

const FIELD_MEASURES: Record<string, Measure> = {
  fareAmount: 'fare',
  tripDistance: 'distance',
  durationMinutes: 'duration',
};

/**
 * The measures a tripStats / tripGroups field selects (under `stats` for
 * groups), so the SQL aggregates only those: each measure is four aggregates
 * per row scanned. Aliases and fragments are followed; anything it cannot read
 * (a directive) falls back to every measure.
 */
export function selectedMeasures(info: GraphQLResolveInfo, under?: string): ReadonlySet<Measure> {
  const measures = new Set<Measure>();
  let unsure = false;
  const visit = (selectionSet: SelectionSetNode | undefined, depth: number) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.directives?.length) unsure = true;
      if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, depth);
      else if (selection.kind === Kind.FRAGMENT_SPREAD)
        visit(info.fragments[selection.name.value]?.selectionSet, depth);
      else if (under && depth === 0) {
        if (selection.name.value === under) visit(selection.selectionSet, 1);
      } else {
        const measure = FIELD_MEASURES[selection.name.value];
        if (measure) measures.add(measure);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, 0);
  return unsure ? ALL_MEASURES : measures;
}
