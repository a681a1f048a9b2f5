/**
 * Reading an ag-grid's rows from the DOM the way a user sees them.
 *
 * ag-grid renders only the rows near the viewport, each an element with
 * `row-index` and `row-id` (getRowId) placed at its slot (translateY =
 * index × row height). With animateRows (ag-grid's default) a row that leaves
 * the rendered range because of a data change is not removed at once: it is
 * retired, parked just outside the viewport (100 px past its edge) and kept in
 * the DOM for ROW_ANIMATION_TIMEOUT (400 ms) while it slides out. A retired row
 * stops listening to its node, so its `row-index` keeps the value it had when
 * it left. When a second update arrives within those 400 ms (the dashboard
 * after a restart: the catch-up batch, then the next sync), the first update's
 * retired rows still claim indices that now belong to other rows, and a reader
 * that takes every `[row-index]` element sees rows "missing" from the grid.
 *
 * So a row is read only where it stands at its own slot: retired rows never do
 * (they are parked at the viewport's edge, which the rendered range, ten rows
 * beyond the viewport, always lies past).
 */
import type { Page } from 'playwright-core';

export interface GridRowElement {
  index: number;
  id: string;
  /** Where the row is placed (translateY or top), in px. */
  top: number;
  height: number;
}

/** Every element that carries a row, as it is in the DOM (retired rows included), in DOM order. */
export function gridRowElements(page: Page, scope: string): Promise<GridRowElement[]> {
  return page.$$eval(`${scope} [row-id][row-index]`, (rows) =>
    rows.map((row) => {
      const style = (row as HTMLElement).style;
      const translated = /translateY\((-?[\d.]+)px\)/.exec(style.transform)?.[1];
      return {
        index: Number(row.getAttribute('row-index')),
        id: row.getAttribute('row-id') ?? '',
        top: Number(translated ?? Number.parseFloat(style.top)),
        height: Number.parseFloat(style.height),
      };
    }),
  );
}

/** The rows the grid shows, by row index: elements at their own slot, retired ones left out. */
export function displayedRows(elements: readonly GridRowElement[]): Map<number, string> {
  const rows = new Map<number, string>();
  for (const row of elements) {
    if (!Number.isFinite(row.height) || row.height <= 0) continue;
    if (Math.abs(row.top - row.index * row.height) > 0.5) continue;
    const other = rows.get(row.index);
    if (other !== undefined && other !== row.id) {
      throw new Error(`two rows at their slot for index ${row.index}: ${other} and ${row.id}`);
    }
    rows.set(row.index, row.id);
  }
  return rows;
}

export async function readDisplayedRows(page: Page, scope: string): Promise<Map<number, string>> {
  return displayedRows(await gridRowElements(page, scope));
}
