/**
 * Pickup without the notify trigger: every PROBE_EVERY_MS a cheap index probe asks whether a
 * notification.requested row committed past the discovery cursor, and nudges a requests pass
 * when one did. The probe reads only the notification rows written since its last look
 * (herald_notification_position, a range scan from its own high-water mark, at most
 * PROBE_LIMIT rows), so its cost follows the write rate, not the table or its statistics.
 * It is a nudge, nothing more: the guarded pass decides what to enqueue, and a request it
 * could not see yet (an open pusher transaction holds the guard) keeps the probe nudging
 * until discovery has passed it. Without the index (it is optional; migrate builds it)
 * there is no probe and pickup waits for the poll or the trigger.
 */
import type { Pool } from 'pg';

import { HERALD_POSITION_INDEX } from '../eventstore/migrations.js';
import type { Logger } from '../logger.js';
import { compareDecimal } from './cursor.js';
import { GUARD } from './sql.js';

export const PROBE_EVERY_MS = 20;
const PROBE_LIMIT = 2000;

const INDEX_SQL = `SELECT i.indisvalid AS valid FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'eventstore' AND c.relname = $1`;

const NEWEST_SQL = `SELECT "position"::text AS position FROM eventstore.events2
 WHERE aggregate_type = 'notification' ORDER BY "position" DESC LIMIT 1`;

/**
 * The newest request after $1 (among at most $2 notification rows), and how far the next
 * probe may start: the newest row read, but never past the start of the oldest open pusher
 * transaction (the guard), whose rows may still commit below it.
 */
export const PROBE_SQL = `
WITH ${GUARD}, s AS (
  SELECT "position", event_type FROM eventstore.events2
   WHERE aggregate_type = 'notification' AND "position" > $1::numeric
   ORDER BY "position" LIMIT $2)
SELECT GREATEST($1::numeric, LEAST(max(s."position"), (SELECT pos FROM guard)))::text AS next,
       (max(s."position") FILTER (WHERE s.event_type = 'notification.requested'))::text AS requested
  FROM s`;

export interface Probe {
  close(): Promise<void>;
  /** Probes run so far (tests). */
  readonly runs: number;
}

export function startProbe(opts: {
  pool: Pool;
  /** Position of the discovery cursor (everything up to it has been read). */
  discovered(): string;
  nudge(): void;
  logger: Logger;
  everyMs?: number;
}): Probe {
  const { pool, logger } = opts;
  const everyMs = opts.everyMs ?? PROBE_EVERY_MS;
  let after: string | undefined;
  /** The newest request the probe saw; nudge until discovery is past it. */
  let seen = '0';
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let runs = 0;
  let running: Promise<void> = Promise.resolve();

  async function tick(): Promise<void> {
    if (after === undefined) {
      const { rows } = await pool.query<{ valid: boolean }>(INDEX_SQL, [HERALD_POSITION_INDEX]);
      if (!rows[0]?.valid) {
        logger.info({ index: HERALD_POSITION_INDEX }, 'no position index: pickup between polls needs the notify trigger');
        closed = true;
        return;
      }
      const { rows: top } = await pool.query<{ position: string }>(NEWEST_SQL);
      const newest = top[0]?.position ?? '0';
      // If discovery already ran, start from its cursor: a request committed between its
      // read and this one is after it, and the probe must see it.
      const discovered = opts.discovered();
      after = discovered !== '0' && compareDecimal(discovered, newest) < 0 ? discovered : newest;
      return;
    }
    runs++;
    // Prepared (named): planned once per connection, not 50 times a second.
    const { rows } = await pool.query<{ next: string | null; requested: string | null }>({
      name: 'herald_probe',
      text: PROBE_SQL,
      values: [after, PROBE_LIMIT],
    });
    const row = rows[0];
    if (row?.next) after = row.next;
    if (row?.requested && compareDecimal(row.requested, seen) > 0) seen = row.requested;
    if (compareDecimal(seen, opts.discovered()) > 0) opts.nudge();
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((err: unknown) => logger.warn({ err }, 'pickup probe failed; polling continues'))
        .finally(schedule);
    }, everyMs);
  }
  schedule();

  return {
    get runs() {
      return runs;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
