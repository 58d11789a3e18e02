/**
 * A paced inserter: request i is pushed at t0 + i/rate, each in its own transaction, as
 * ZITADEL pushes one per login/API call. Pushes overlap when the database is slow, so a
 * slow insert never delays the ones behind it. Resolves to the commit-time map.
 */
import type pg from 'pg';

import { pushRequest } from './seed.js';
import { sleep } from './stats.js';

export interface PacedResult {
  /** recipient → position (clock_timestamp at insert), epoch ms */
  readonly insertedAt: Map<string, number>;
  readonly count: number;
  readonly seconds: number;
}

export async function pacedInserts(
  pool: pg.Pool,
  opts: { instanceId: string; tag: string; rate: number; seconds: number; recipient: (i: number) => string },
): Promise<PacedResult> {
  const count = Math.round(opts.rate * opts.seconds);
  const insertedAt = new Map<string, number>();
  const t0 = Date.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / opts.rate - Date.now();
    if (wait > 1) await sleep(wait);
    inflight.push(pushRequest(pool, opts.instanceId, opts.tag, i).then((at) => void insertedAt.set(opts.recipient(i), at)));
  }
  await Promise.all(inflight);
  return { insertedAt, count, seconds: (Date.now() - t0) / 1000 };
}

/** Latencies of the paced requests; undelivered ones are counted, not guessed. */
export function latencies(
  insertedAt: ReadonlyMap<string, number>,
  deliveries: readonly { to: string; at: number }[],
): { values: number[]; undelivered: number } {
  const values: number[] = [];
  const seen = new Set<string>();
  for (const d of deliveries) {
    const t = insertedAt.get(d.to);
    if (t === undefined || seen.has(d.to)) continue;
    seen.add(d.to);
    values.push(d.at - t);
  }
  return { values, undelivered: insertedAt.size - seen.size };
}
