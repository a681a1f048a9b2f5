/**
 * Why the dashboard's restart test once failed, shown on ag-grid alone in
 * headless Chromium, with the page's clock held still so nothing depends on
 * timing: two data updates less than ROW_ANIMATION_TIMEOUT (400 ms) apart
 * leave the first update's retired rows in the DOM, still carrying the row
 * index they had, so a reader that takes every `[row-index]` element sees the
 * wrong trips at those indices (after the restart: the grid "lacked" the two
 * trips SQL had at rows 25 and 26). The reader of test/support/grid-rows.ts
 * takes a row only at its own slot, and reads what the grid holds.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser.js';
import { displayedRows, gridRowElements } from './support/grid-rows.js';

// The grid's own browser bundle (the package's main entry is dist/package/main.cjs.js).
const AG_GRID = path.join(
  path.dirname(createRequire(import.meta.url).resolve('ag-grid-community')),
  '..',
  'ag-grid-community.min.js',
);
const ROW_HEIGHT = 32;

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** A grid like the dashboard's: 520 px high, 32 px rows keyed by id, ag-grid's default row animation. */
async function openGrid(ids: string[]): Promise<void> {
  page = await browser.newPage({ viewport: { width: 800, height: 800 } });
  await page.clock.install();
  await page.setContent('<div id="grid" style="height: 520px; width: 600px"></div>');
  await page.addScriptTag({ path: AG_GRID });
  await page.evaluate(
    ({ ids, rowHeight }) => {
      const { createGrid } = (window as unknown as { agGrid: { createGrid: CreateGrid } }).agGrid;
      type CreateGrid = (element: HTMLElement, options: Record<string, unknown>) => GridApi;
      type GridApi = { setGridOption(key: string, value: unknown): void };
      const api = createGrid(document.getElementById('grid')!, {
        rowData: ids.map((id) => ({ id })),
        columnDefs: [{ field: 'id' }],
        getRowId: (params: { data: { id: string } }) => params.data.id,
        rowHeight,
      });
      (window as unknown as { gridApi: GridApi }).gridApi = api;
    },
    { ids, rowHeight: ROW_HEIGHT },
  );
  await page.clock.runFor(1000);
}

/** Replaces the grid's rows (as the dashboard does on each live batch) without letting the clock move. */
async function setRows(ids: string[]): Promise<void> {
  await page.evaluate((ids) => {
    const api = (window as unknown as { gridApi: { setGridOption(key: string, value: unknown): void } }).gridApi;
    api.setGridOption(
      'rowData',
      ids.map((id) => ({ id })),
    );
  }, ids);
}

describe('reading the rows an ag-grid shows', () => {
  it('leaves out the rows a first update retired when a second follows within the slide-out', async () => {
    const seeded = Array.from({ length: 100 }, (_, i) => String(1000 - i));
    await openGrid(seeded);
    const first = ['2001', '2002', '2003', ...seeded];
    const second = ['2004', '2005', ...first];
    await setRows(first);
    await setRows(second);

    const elements = await gridRowElements(page, '#grid');
    // The cause: taking every element, later ones winning (as the old reader did), puts the trips the grid
    // holds at 27, 28, 29 at indices 25, 26, 27: retired rows keep the index of the first update.
    const everyElement = new Map(elements.map((row) => [row.index, row.id]));
    const wrong = [...everyElement].filter(([index, id]) => second[index] !== id).sort(([a], [b]) => a - b);
    expect(wrong).toEqual([
      [25, second[27]],
      [26, second[28]],
      [27, second[29]],
    ]);

    // The reader: every row at its own slot, each the one the grid holds there, none missing up to the last.
    const shown = [...displayedRows(elements)].sort(([a], [b]) => a - b);
    expect(shown.length).toBeGreaterThan(15);
    expect(shown).toEqual(shown.map(([,], index) => [index, second[index]]));

    // Once the slide-out is over the retired rows are gone, and both readings agree.
    await page.clock.runFor(1000);
    const settled = await gridRowElements(page, '#grid');
    expect(new Map(settled.map((row) => [row.index, row.id]))).toEqual(displayedRows(settled));
    expect([...displayedRows(settled)].sort(([a], [b]) => a - b)).toEqual(shown);
    await page.close();
  });

  it('refuses two different rows standing at the same slot', () => {
    expect(() =>
      displayedRows([
        { index: 3, id: 'a', top: 96, height: ROW_HEIGHT },
        { index: 3, id: 'b', top: 96, height: ROW_HEIGHT },
      ]),
    ).toThrow(/two rows at their slot for index 3: a and b/);
  });
});
