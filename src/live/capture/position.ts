/**
 * A position in the change stream of the exact capture: which changes a
 * client has already taken into account, as Postgres snapshots
 * (`pg_snapshot` text, `xmin:xmax:xip,…`). A change belongs to a position
 * when its writing transaction is visible in the snapshot.
 *
 * Usually one snapshot (`low` = `high`, `split` null): the table as that
 * snapshot saw it. A page cut in the middle of a window is two: rows with
 * id <= split are at `high`, the others still at `low`. Any position resumes
 * exactly: the next read computes, per id, the net change from the snapshot
 * that id is at to the reader's own.
 *
 * Why snapshots and not a sequence number: transactions commit in a
 * different order than they write. A change written first by a transaction
 * that commits last would fall below any sequence or id high-water mark
 * already passed. A snapshot says exactly which transactions were in, so a
 * late commit is never skipped (PgQ's batches rest on the same fact).
 *
 * Each of `low` and `high` is a stamp: `<pg_snapshot>@<seq>`, the snapshot and the largest sequence number
 * of the change record it saw. A crash can hand out a transaction id again (Postgres makes an id durable
 * only with its WAL, and a rollback's WAL is flushed up to about 200 ms later): an older snapshot counts the
 * reused id as finished, so a position of bare snapshots skipped the changes of the transaction that got it.
 * Sequence numbers of committed rows survive a crash (a commit flushes the sequence's WAL), so a change
 * counts as covered only when its transaction is visible in the snapshot and its number is not past the
 * stamp's. Cursors issued before 2026-12-05 hold bare snapshots and resume as they did, without this guard.
 */
export interface ChangePosition {
  low: string;
  high: string;
  /** null: every id is at `high` (= `low`). */
  split: bigint | null;
}

const SNAPSHOT = /^(\d{1,20}):(\d{1,20}):((\d{1,20})(,\d{1,20})*)?$/;
const XID8_MAX = 2n ** 64n - 1n;
const XID_MASK = 2n ** 32n - 1n;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Whether Postgres would read `text` as a pg_snapshot: its parser's rules (parse_snapshot in xid8funcs.c), so
 * that a forged cursor is refused here, naming the argument, and never reaches the feed's shared statement,
 * where the database's refusal would fail every subscriber's tick. xmin and xmax are valid transaction ids
 * (the low 32 bits not 0), xmin <= xmax, and the in-progress ids lie in [xmin, xmax) in ascending order.
 */
export function isSnapshotText(text: string): boolean {
  if (text.length > 8192 || !SNAPSHOT.test(text)) return false;
  const [xminText, xmaxText, xipText] = text.split(':') as [string, string, string];
  const xmin = BigInt(xminText);
  const xmax = BigInt(xmaxText);
  if (xmax > XID8_MAX || (xmin & XID_MASK) === 0n || (xmax & XID_MASK) === 0n || xmax < xmin) return false;
  let last = xmin;
  for (const item of xipText === '' ? [] : xipText.split(',')) {
    const xid = BigInt(item);
    if (xid < last || xid >= xmax) return false;
    last = xid;
  }
  return true;
}

/** A stamp's parts: its snapshot's text, and the sequence number after `@` (null for a bare snapshot). */
export function splitStamp(stamp: string): { snapshot: string; seq: string | null } {
  const at = stamp.indexOf('@');
  return at < 0 ? { snapshot: stamp, seq: null } : { snapshot: stamp.slice(0, at), seq: stamp.slice(at + 1) };
}

/** Whether `text` is a stamp: a snapshot Postgres reads, optionally followed by `@` and a sequence number. */
export function isStampText(text: string): boolean {
  const { snapshot, seq } = splitStamp(text);
  return isSnapshotText(snapshot) && (seq === null || (/^\d{1,19}$/.test(seq) && BigInt(seq) <= INT64_MAX));
}

/** The snapshot's xmin (of a snapshot or a stamp): every transaction below it is finished. */
export function snapshotXmin(text: string): bigint {
  return BigInt(text.slice(0, text.indexOf(':')));
}

/**
 * Whether transaction `xid` had finished for the snapshot of `stamp` (of a snapshot or a stamp): Postgres'
 * pg_visible_in_snapshot, on the text a position holds.
 */
export function snapshotSees(stamp: string, xid: bigint): boolean {
  const [xmin, xmax, xip] = splitStamp(stamp).snapshot.split(':') as [string, string, string];
  if (xid < BigInt(xmin)) return true;
  if (xid >= BigInt(xmax)) return false;
  return xip === '' || !xip.split(',').some((item) => BigInt(item) === xid);
}

/** Whether every id of the position is at a snapshot that saw `xid` finished. */
export function positionSees(position: ChangePosition, xid: bigint): boolean {
  return snapshotSees(position.low, xid) && snapshotSees(position.high, xid);
}

export function atSnapshot(snapshot: string): ChangePosition {
  return { low: snapshot, high: snapshot, split: null };
}

/** The oldest transaction a position may still need changes of (compared with the pruning horizon). */
export function positionXmin(position: ChangePosition): bigint {
  const low = snapshotXmin(position.low);
  const high = snapshotXmin(position.high);
  return low < high ? low : high;
}

/**
 * The smallest sequence number the position's stamps saw (the newest change covered by both), or null for a
 * position of bare snapshots (a cursor from before stamps).
 */
export function positionSeq(position: ChangePosition): bigint | null {
  const low = splitStamp(position.low).seq;
  const high = splitStamp(position.high).seq;
  if (low === null || high === null) return null;
  return BigInt(low) < BigInt(high) ? BigInt(low) : BigInt(high);
}

export function positionKey(position: ChangePosition): string {
  return `${position.low}|${position.high}|${position.split ?? ''}`;
}
