/** Ordering of (position, in_tx_order) cursors; position is an exact DECIMAL in text form. */
import type { Cursor } from './sql.js';

/** Exact order of two non-negative DECIMAL texts. */
export function compareDecimal(a: string, b: string): number {
  const [ai = '0', af = ''] = a.split('.');
  const [bi = '0', bf = ''] = b.split('.');
  if (ai.length !== bi.length) return ai.length < bi.length ? -1 : 1;
  if (ai !== bi) return ai < bi ? -1 : 1;
  const width = Math.max(af.length, bf.length);
  const [x, y] = [af.padEnd(width, '0'), bf.padEnd(width, '0')];
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Negative when a comes before b. Positions are non-negative epoch seconds. */
export function compareCursor(a: Cursor, b: Cursor): number {
  return compareDecimal(a.position, b.position) || a.inTxOrder - b.inTxOrder;
}

export function minCursor(a: Cursor, b: Cursor): Cursor {
  return compareCursor(a, b) <= 0 ? a : b;
}
