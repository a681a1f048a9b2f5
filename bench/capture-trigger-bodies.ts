/**
 * Where the capture trigger's cost on batched upserts goes (issue 12): the
 * installed trigger function with its UPDATE branch swapped for other bodies,
 * each timed against the capture switched off, in interleaved blocks.
 *
 *   npx tsx bench/capture-trigger-bodies.ts [--rows 100000] [--rounds 80] [--block 10]
 *
 * Each round runs every body (and "off") once, in a random order: one untimed
 * block of `block` 1,000-row upserts (the body is planned again after the
 * swap), then one timed block. Prints per body the median, over the rounds, of
 * the time it adds per 1,000-row upsert over "off" in the same round.
 * A diagnostic: the bodies other than "installed" are not exact captures.
 */
import { parseArgs } from 'node:util';
import { TRIP_DATA_COLUMNS } from '../src/db/tables.js';
import {
  CAPTURE_FUNCTION,
  fillTable,
  GATEWAY_SCHEMA,
  pairedSummary,
  signed,
  startCaptureBench,
  tidy,
  upsertBlocks,
} from './support/capture-bench.js';
import { positiveInt } from './support/latest-page-harness.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '80' },
    block: { type: 'string', default: '10' },
  },
});
const rows = positiveInt('rows', values.rows, 1000);
const rounds = positiveInt('rounds', values.rounds);
const block = positiveInt('block', values.block);

const bench = await startCaptureBench('capture-trigger-bodies');
const { writer, setCapture } = bench;
const { rows: definition } = await writer.query<{ text: string }>(`SELECT pg_get_functiondef($1::regproc) AS text`, [
  CAPTURE_FUNCTION,
]);
const installed = definition[0]!.text;
const UPDATE = "ELSIF TG_OP = 'UPDATE' THEN";
const DELETE = "ELSIF TG_OP = 'DELETE' THEN";
const DECLARED = 'written bigint := 0;';
if (!installed.includes(UPDATE) || !installed.includes(DELETE) || !installed.includes(DECLARED)) {
  throw new Error(`${CAPTURE_FUNCTION} no longer has the branches this benchmark swaps; update it`);
}

const log = `${GATEWAY_SCHEMA}.trip_change_log`;
const columns = TRIP_DATA_COLUMNS;
const images = columns.map((column) => `old_${column}`).join(', ');
const arrays = (alias: string, order = '') => columns.map((c) => `array_agg(${alias}.${c}${order})`).join(', ');
const tuple = (alias: string) => `(${columns.map((c) => `${alias}.${c}`).join(', ')})`;
// Each column's type as the table holds it, for the bodies that keep arrays in variables.
const { rows: typeRows } = await writer.query<{ name: string; type: string }>(
  `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
    WHERE attrelid = '"default".trips_synced'::regclass AND attnum > 0 AND NOT attisdropped`,
);
const typeOf = new Map(typeRows.map((row) => [row.name, row.type]));
const typed = columns.map((column) => typeOf.get(column)!);

/** The installed function with its UPDATE branch replaced (and extra declarations). */
function withUpdate(branch: string, declare = ''): string {
  const from = installed.indexOf(UPDATE);
  const to = installed.indexOf(DELETE);
  return (installed.slice(0, from) + `${UPDATE}\n${branch}\n    ` + installed.slice(to)).replace(
    DECLARED,
    `${DECLARED} ${declare}`,
  );
}

interface Body {
  sql?: string;
  /** Run before and after the body's blocks (table settings it needs). */
  setUp?: string;
  tearDown?: string;
}

function withoutSetClause(text: string): string {
  const clause = / SET search_path TO [^\n]*\n/;
  if (!clause.test(text))
    throw new Error(`${CAPTURE_FUNCTION} has no SET search_path clause to leave out; update this benchmark`);
  return text.replace(clause, '\n');
}

const oldSideOnly = (from: string) =>
  withUpdate(
    `SELECT array_agg(n.id) INTO new_ids FROM new_rows n;
     INSERT INTO ${log} (relid, op, ids, ${images}, max_id)
     SELECT TG_RELID, 'U', array_agg(o.id), ${arrays('o')}, max(o.id) FROM ${from} o HAVING count(*) > 0
     RETURNING ids INTO old_ids;
     GET DIAGNOSTICS written = ROW_COUNT;`,
  );

const bodies: Record<string, Body> = {
  off: {},
  installed: { sql: installed },
  'join by key (previous)': {
    sql: withUpdate(`INSERT INTO ${log} (relid, op, ids, ${images}, max_id)
      SELECT TG_RELID, c.op, array_agg(c.id ORDER BY c.id),
             ${columns.map((c) => `CASE WHEN c.op = 'I' THEN NULL ELSE array_agg(c.${c} ORDER BY c.id) END`).join(', ')}, max(c.id)
        FROM (SELECT CASE WHEN n.id IS NULL THEN 'D' WHEN o.id IS NULL THEN 'I' ELSE 'U' END::"char" AS op,
                     coalesce(o.id, n.id) AS id, ${columns.map((c) => `o.${c}`).join(', ')}
                FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
               WHERE o.id IS NULL OR n.id IS NULL OR ${tuple('o')} IS DISTINCT FROM ${tuple('n')}) c
       GROUP BY c.op;
      GET DIAGNOSTICS written = ROW_COUNT;`),
  },
  // What the installed body costs when it is known that no key changed (an UPDATE whose SET list leaves the key
  // out), so the NEW side is neither read nor compared: the most a key-change flag could save.
  'old side, NEW side not read': {
    sql: withUpdate(
      `INSERT INTO ${log} (relid, op, ids, ${images}, max_id)
     SELECT TG_RELID, 'U', array_agg(o.id), ${arrays('o')}, max(o.id) FROM old_rows o HAVING count(*) > 0;
     GET DIAGNOSTICS written = ROW_COUNT;`,
    ),
  },
  'old side, sorted by key': { sql: oldSideOnly('(SELECT * FROM old_rows ORDER BY id)') },
  'old side, changed columns only': {
    sql: withUpdate(
      `SELECT array_agg(n.id), ${arrays('n')} INTO new_ids, ${columns.map((_, i) => `n${i}`).join(', ')} FROM new_rows n;
       SELECT array_agg(o.id), max(o.id), ${arrays('o')} INTO old_ids, top, ${columns.map((_, i) => `o${i}`).join(', ')} FROM old_rows o;
       INSERT INTO ${log} (relid, op, ids, ${images}, max_id)
       VALUES (TG_RELID, 'U', old_ids, ${columns.map((_, i) => `CASE WHEN o${i} IS DISTINCT FROM n${i} THEN o${i} END`).join(', ')}, top);
       GET DIAGNOSTICS written = ROW_COUNT;`,
      `top bigint; ${typed.map((type, i) => `o${i} ${type}[]; n${i} ${type}[];`).join(' ')}`,
    ),
  },
  'old side, rows of ~120 trips kept inline': {
    sql: withUpdate(
      `SELECT count(*) INTO top FROM old_rows;
       INSERT INTO ${log} (relid, op, ids, ${images}, max_id)
       SELECT TG_RELID, 'U', array_agg(o.id), ${arrays('o')}, max(o.id) FROM old_rows o GROUP BY o.id % ceil(top / 120.0)::bigint;
       GET DIAGNOSTICS written = ROW_COUNT;`,
      'top bigint;',
    ),
    setUp: `ALTER TABLE ${log} SET (toast_tuple_target = 8160)`,
    tearDown: `ALTER TABLE ${log} RESET (toast_tuple_target)`,
  },
  'old side, ARRAY() per column': {
    sql: withUpdate(
      `new_ids := ARRAY(SELECT n.id FROM new_rows n);
     INSERT INTO ${log} (relid, op, ids, ${images}, max_id)
     SELECT TG_RELID, 'U', ARRAY(SELECT o.id FROM old_rows o), ${columns.map((c) => `ARRAY(SELECT o.${c} FROM old_rows o)`).join(', ')},
            (SELECT max(o.id) FROM old_rows o)
      WHERE EXISTS (SELECT 1 FROM old_rows)
     RETURNING ids INTO old_ids;
     GET DIAGNOSTICS written = ROW_COUNT;`,
    ),
  },
  // The function's SET clause saves and restores search_path around each of the (two, for an upsert) calls
  // per statement; it is what keeps a SECURITY DEFINER function safe from objects a caller creates.
  'installed, without SET search_path': { sql: withoutSetClause(installed) },
  'installed, without NOTIFY': { sql: installed.replace(/PERFORM pg_notify\([^;]*;/, 'NULL;') },
  'old side, arrays built, keys-only record': {
    sql: withUpdate(
      `SELECT array_agg(n.id) INTO new_ids FROM new_rows n;
     SELECT array_agg(o.id), ${arrays('o')} INTO old_ids, ${columns.map((_, i) => `o${i}`).join(', ')} FROM old_rows o;
     INSERT INTO ${log} (relid, op, ids, max_id) VALUES (TG_RELID, 'U', old_ids, 0);
     GET DIAGNOSTICS written = ROW_COUNT;`,
      typed.map((type, i) => `o${i} ${type}[];`).join(' '),
    ),
  },
  'old side, arrays built, no record': {
    sql: withUpdate(
      `SELECT array_agg(n.id) INTO new_ids FROM new_rows n;
     SELECT array_agg(o.id), ${arrays('o')} INTO old_ids, ${columns.map((_, i) => `o${i}`).join(', ')} FROM old_rows o;`,
      typed.map((type, i) => `o${i} ${type}[];`).join(' '),
    ),
  },
  'keys of both sides, no record': {
    sql: withUpdate(`SELECT array_agg(n.id) INTO new_ids FROM new_rows n;
      SELECT array_agg(o.id) INTO old_ids FROM old_rows o;`),
  },
  'empty body': { sql: withUpdate('PERFORM 1;') },
};

await setCapture(false);
await fillTable(writer, rows);
const timedBlock = upsertBlocks(writer, rows, block);

// BODIES='installed|empty body' times only those (and off).
const names = process.env.BODIES ? ['off', ...process.env.BODIES.split('|')] : Object.keys(bodies);
for (const name of names) if (!(name in bodies)) throw new Error(`BODIES: no body named "${name}"`);
const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
console.log(`capture-trigger-bodies: ${rows} rows, ${rounds} rounds of ${block} upserts per body`);
for (let round = 1; round <= rounds; round += 1) {
  const order = [...names].sort(() => Math.random() - 0.5);
  for (const name of order) {
    const body = bodies[name]!;
    await setCapture(body.sql !== undefined);
    if (body.sql) await writer.query(body.sql);
    if (body.setUp) await writer.query(body.setUp);
    await timedBlock();
    times[name]!.push(await timedBlock());
    if (body.tearDown) await writer.query(body.tearDown);
  }
  if (round % 20 === 0) {
    await setCapture(false);
    await tidy(writer);
  }
}
await writer.query(installed);
for (const name of names) {
  const summary = pairedSummary(times[name]!, times.off!);
  console.log(
    `${name.padEnd(42)} ${summary.measured.toFixed(3)} ms per 1,000-row upsert, ` +
      `${signed(summary.added)} ms over off (paired median; ${(summary.slower * 100).toFixed(1)}%)`,
  );
}
await bench.stop();
