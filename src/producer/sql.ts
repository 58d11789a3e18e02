/**
 * The producer's SQL. Pending = a notification event with no later event on its aggregate
 * (ZITADEL's worker selection), within the MaxTtl window — or, for the expired scan, behind
 * it (ZITADEL skips those; herald cancels them).
 *
 * Reads are guarded: only rows below the start of the oldest open ZITADEL pusher
 * transaction are read (ZITADEL's projection guard), so an event that commits late with a
 * lower position is never stepped over. Unguarded reads (the sweep) are the safety net when
 * herald's role cannot see other sessions' xact_start (it needs pg_read_all_stats).
 * Cross-instance reads use the partial index herald_notification_position; per-instance
 * reads use ZITADEL's es_projection (instance_id, aggregate_type, event_type, position).
 */
import type pg from 'pg';

import { withTransaction } from '../eventstore/pool.js';
import type { Queryable } from '../eventstore/types.js';

export interface PendingEvent {
  readonly instanceId: string;
  readonly aggregateId: string;
  readonly sequence: number;
  readonly eventType: string;
  readonly createdAt: Date;
  readonly position: string;
  readonly inTxOrder: number;
  /** backOff of a retry event, in nanoseconds (null when absent or malformed). */
  readonly backOffNs: number | null;
  readonly isOTP: boolean;
}

export interface Cursor {
  readonly position: string;
  readonly inTxOrder: number;
}

export const START: Cursor = { position: '0', inTxOrder: 0 };

export const GUARD = `
guard AS (
  SELECT COALESCE(EXTRACT(EPOCH FROM min(xact_start)), EXTRACT(EPOCH FROM now())) AS pos
    FROM pg_stat_activity
   WHERE datname = current_database()
     AND application_name LIKE 'zitadel_es_pusher_%'
     AND state <> 'idle'
)`;

const PENDING_COLUMNS = `
       e.instance_id, e.aggregate_id, e."sequence", e.event_type, e.created_at,
       e."position"::text AS position, e.in_tx_order,
       CASE WHEN jsonb_typeof(e.payload->'backOff') = 'number'
            THEN (e.payload->>'backOff') END AS back_off,
       COALESCE(e.payload->'request'->'isOTP' = 'true'::jsonb, false) AS is_otp`;

/**
 * "No later event on the aggregate", as a correlated scalar subquery on purpose: it runs as
 * one primary-key probe per candidate row whatever the statistics say. Written as NOT
 * EXISTS, a fresh burst of rows without statistics made the planner pick a hash anti-join
 * over the whole table (936 ms instead of 22 ms for a 1 000-row window, seen in the bench).
 */
const NO_LATER_EVENT = `
   e."sequence" = (
         SELECT l."sequence" FROM eventstore.events2 l
          WHERE l.instance_id = e.instance_id
            AND l.aggregate_type = 'notification'
            AND l.aggregate_id = e.aggregate_id
          ORDER BY l."sequence" DESC
          LIMIT 1)`;

const ACTIVE_INSTANCE = `
   ($ACTIVE::double precision = 0 OR e.instance_id IN (
         SELECT DISTINCT a.instance_id FROM eventstore.events2 a
          WHERE a.created_at > now() - make_interval(secs => $ACTIVE::double precision)))`;

interface PendingRow {
  instance_id: string;
  aggregate_id: string;
  sequence: string;
  event_type: string;
  created_at: Date;
  position: string;
  in_tx_order: number;
  back_off: string | null;
  is_otp: boolean;
}

function toPending(r: PendingRow): PendingEvent {
  return {
    instanceId: r.instance_id,
    aggregateId: r.aggregate_id,
    sequence: Number(r.sequence),
    eventType: r.event_type,
    createdAt: r.created_at,
    position: r.position,
    inTxOrder: r.in_tx_order,
    backOffNs: r.back_off === null ? null : Number(r.back_off),
    isOTP: r.is_otp,
  };
}

/**
 * Cross-instance: the next `limit` events of one type after a cursor, oldest first, each
 * with whether it is still pending. The ordered scan is limited before the pending check
 * on purpose: with the check inside, the planner misjudged its selectivity and sorted the
 * whole window (1.2 s per 1 000-row page over a 200 000-row backlog, seen in the bench);
 * limited first, it is an index range scan that stops early.
 */
/** The next `$7` events of type `$1` after cursor ($2, $3), guarded if `$4`, within MaxTtl. */
const SCAN_AFTER = `
  SELECT e.* FROM eventstore.events2 e, guard
   WHERE e.aggregate_type = 'notification'
     AND e.event_type = $1
     AND (e."position", e.in_tx_order) > ($2::numeric, $3::integer)
     AND ($4::boolean IS FALSE OR e."position" < guard.pos)
     AND e."position" > EXTRACT(EPOCH FROM now()) - $5::double precision
     AND ${ACTIVE_INSTANCE.replaceAll('$ACTIVE', '$6')}
   ORDER BY e."position", e.in_tx_order
   LIMIT $7`;

export const PENDING_SQL = `
WITH ${GUARD}, scanned AS MATERIALIZED (${SCAN_AFTER})
SELECT g.pos::text AS guard_pos, e.* FROM guard g
  LEFT JOIN (SELECT ${PENDING_COLUMNS}, ${NO_LATER_EVENT} AS pending FROM scanned e) e ON true
 ORDER BY e."position", e.in_tx_order`;

export interface WindowQuery {
  readonly windowMs: number;
  readonly activeInstancesMs: number;
}

type AfterQuery = WindowQuery & { eventType: string; after: Cursor; guarded: boolean; limit: number };

/** Runs one of the cross-instance "after a cursor" statements (same parameters). */
type AfterRow = PendingRow & { pending?: boolean; guard_pos: string };

/**
 * Runs one of the cross-instance "after a cursor" statements (same parameters). They return
 * the guard they read below on every row, and one row of nulls when nothing matched, so the
 * caller learns the guard of the same statement (guardCursor) even from an empty page.
 */
async function selectAfter(db: Queryable, sql: string, q: AfterQuery): Promise<{ rows: AfterRow[]; guard: string | undefined }> {
  const { rows } = await db.query<AfterRow>(sql, [
    q.eventType,
    q.after.position,
    q.after.inTxOrder,
    q.guarded,
    q.windowMs / 1000,
    q.activeInstancesMs / 1000,
    q.limit,
  ]);
  return { rows: rows.filter((r) => r.instance_id !== null), guard: rows[0]?.guard_pos };
}

export interface ScannedPage {
  /** The pending events among the scanned ones. */
  readonly pending: PendingEvent[];
  /** The last event scanned (pending or not): where the next page starts. */
  readonly last: Cursor | undefined;
  /** Whether the page was full (more may follow). */
  readonly full: boolean;
  /**
   * Guarded reads: where the cursor may move after a page that was not full, just below the
   * guard this read used (guardCursor).
   */
  readonly below?: Cursor | undefined;
}

/**
 * Runs a paged tail read with bitmap scans off for its transaction. On a table without
 * statistics the planner took a few hundred rows for the range after the cursor and chose
 * a bitmap scan of the whole range plus a sort for every page (196 ms per 1 000-row page of
 * a 50 000-request window, so a sweep cost seconds of CPU each time); in index order the
 * same page takes 9 ms. Used for the sweep, the retries tail and the expired scan, which
 * page through ranges that can be long (not on the per-commit path: three more round trips).
 */
function inIndexOrder(db: Queryable): Queryable {
  const pool = db as Partial<pg.Pool>;
  if (typeof pool.connect !== 'function' || !('totalCount' in pool)) return db;
  const whole = db as pg.Pool;
  return {
    query: ((text: string, values?: unknown[]) =>
      withTransaction(whole, async (client) => {
        await client.query('SET LOCAL enable_bitmapscan = off');
        return client.query(text, values);
      })) as Queryable['query'],
  };
}

/** The next `limit` events after the cursor; the pending ones, and where to go on. */
export async function selectPending(db: Queryable, q: AfterQuery): Promise<ScannedPage> {
  const { rows, guard } = await selectAfter(inIndexOrder(db), PENDING_SQL, q);
  const last = rows.at(-1);
  return {
    pending: rows.filter((r) => r.pending === true).map(toPending),
    last: last ? { position: last.position, inTxOrder: last.in_tx_order } : undefined,
    full: rows.length >= q.limit,
    below: q.guarded ? guardCursor(guard) : undefined,
  };
}

/**
 * Expired: requests and retries that fell out of the MaxTtl window still pending (herald
 * was down, or started after they were written). The same index range scan as above, on
 * the other side of the window (position at or below now − MaxTtl, below the guard), over
 * both event types, limited before the pending check; the caller walks it with a cursor.
 * The bound is numeric (not double precision) so that it is an index condition: once the
 * cursor reaches the window, the scan stops there instead of filtering the window's rows.
 */
const EXPIRED_SQL = `
WITH ${GUARD}, scanned AS MATERIALIZED (
  SELECT e.* FROM eventstore.events2 e, guard
   WHERE e.aggregate_type = 'notification'
     AND e.event_type IN ('notification.requested', 'notification.retry.requested')
     AND (e."position", e.in_tx_order) > ($1::numeric, $2::integer)
     AND e."position" < guard.pos
     AND e."position" <= EXTRACT(EPOCH FROM now()) - $3::numeric
     AND ${ACTIVE_INSTANCE.replaceAll('$ACTIVE', '$4')}
   ORDER BY e."position", e.in_tx_order
   LIMIT $5)
SELECT ${PENDING_COLUMNS}, ${NO_LATER_EVENT} AS pending
  FROM scanned e
 ORDER BY e."position", e.in_tx_order`;

/** The next `limit` notification events older than the window after the cursor; the pending ones. */
export async function selectExpired(db: Queryable, q: WindowQuery & { after: Cursor; limit: number }): Promise<ScannedPage> {
  const { rows } = await inIndexOrder(db).query<PendingRow & { pending: boolean }>(EXPIRED_SQL, [
    q.after.position,
    q.after.inTxOrder,
    q.windowMs / 1000,
    q.activeInstancesMs / 1000,
    q.limit,
  ]);
  const last = rows.at(-1);
  return {
    pending: rows.filter((r) => r.pending).map(toPending),
    last: last ? { position: last.position, inTxOrder: last.in_tx_order } : undefined,
    full: rows.length >= q.limit,
  };
}

/**
 * Discovery: requests after the cursor (finished or not), oldest first, at most `limit`
 * rows: which instances have new work, and which new requests are OTPs (offered at once,
 * whatever backlog their instance has). Cheap: an index range scan, no payload returned.
 */
export const DISCOVER_SQL = `
WITH ${GUARD}, scanned AS (${SCAN_AFTER})
SELECT g.pos::text AS guard_pos, e.* FROM guard g
  LEFT JOIN (SELECT ${PENDING_COLUMNS} FROM scanned e) e ON true
 ORDER BY e."position", e.in_tx_order`;

export async function discoverRequests(
  db: Queryable,
  q: WindowQuery & { after: Cursor; guarded: boolean; limit: number },
): Promise<{ events: PendingEvent[]; below: Cursor | undefined }> {
  const { rows, guard } = await selectAfter(db, DISCOVER_SQL, { ...q, eventType: 'notification.requested' });
  return { events: rows.map(toPending), below: q.guarded ? guardCursor(guard) : undefined };
}

/**
 * Where a guarded tail may move its cursor after a page that was not full: just below the
 * guard of that same read (everything under it had committed and was read), as (guard, -1).
 * Without this the cursor stays on the last matching row, and every later read scans again
 * all the rows of other types written since (herald's own notification.sent rows): a cost
 * that grew with the drain. The guard must come from the same statement as the read: one
 * taken later could step over a request that committed in between.
 */
function guardCursor(guard: string | undefined): Cursor | undefined {
  return guard === undefined ? undefined : { position: guard, inTxOrder: -1 };
}

/**
 * Per-instance windows: for each instance, the next `limit` requests from its low-water
 * cursor, below the guard, each marked pending or not (limited before the pending check,
 * as above). One round trip for all instances (LATERAL). Ordered by position only, with
 * ties (ZITADEL 2.67 gives a whole transaction one position): that is es_projection's own
 * order, so the scan stops after `limit` rows whatever the statistics say. Ordered by
 * (position, in_tx_order), a fresh table without statistics got a full sort of the
 * instance's whole backlog per read (181 ms instead of 15 ms for 2 000 of 50 000 rows).
 * The caller (producer.ts) sorts each instance's rows by (position, in_tx_order).
 */
export const WINDOWS_SQL = `
WITH ${GUARD}
SELECT e.*, ${NO_LATER_EVENT} AS pending FROM guard,
       unnest($1::text[], $2::numeric[], $3::integer[]) AS w(instance_id, pos, ord)
 CROSS JOIN LATERAL (
   SELECT ${PENDING_COLUMNS}
     FROM eventstore.events2 e
    WHERE e.instance_id = w.instance_id
      AND e.aggregate_type = 'notification'
      AND e.event_type = 'notification.requested'
      AND e."position" >= w.pos
      AND (e."position", e.in_tx_order) >= (w.pos, w.ord)
      AND ($4::boolean IS FALSE OR e."position" < guard.pos)
      AND e."position" > EXTRACT(EPOCH FROM now()) - $5::double precision
    ORDER BY e."position"
    FETCH FIRST $6 ROWS WITH TIES) e`;

export async function selectWindows(
  db: Queryable,
  q: { from: ReadonlyMap<string, Cursor>; guarded: boolean; windowMs: number; limit: number },
): Promise<(PendingEvent & { readonly pending: boolean })[]> {
  if (q.from.size === 0) return [];
  const ids = [...q.from.keys()];
  const cursors = ids.map((id) => q.from.get(id) ?? START);
  const { rows } = await db.query<PendingRow & { pending: boolean }>(WINDOWS_SQL, [
    ids,
    cursors.map((c) => c.position),
    cursors.map((c) => c.inTxOrder),
    q.guarded,
    q.windowMs / 1000,
    q.limit,
  ]);
  return rows.map((r) => ({ ...toPending(r), pending: r.pending }));
}

const LOAD_CHECKPOINT_SQL = `SELECT "position"::text AS position, in_tx_order FROM herald.checkpoints WHERE name = $1`;

export async function loadCheckpoint(db: Queryable, name: string): Promise<Cursor | undefined> {
  const { rows } = await db.query<{ position: string; in_tx_order: number }>(LOAD_CHECKPOINT_SQL, [name]);
  const row = rows[0];
  return row ? { position: row.position, inTxOrder: row.in_tx_order } : undefined;
}

/** Moves a checkpoint forward only: replicas racing each other never move it back. */
const SAVE_CHECKPOINT_SQL = `
INSERT INTO herald.checkpoints AS c (name, "position", in_tx_order, updated_at)
VALUES ($1, $2::numeric, $3, now())
ON CONFLICT (name) DO UPDATE
   SET "position" = excluded."position", in_tx_order = excluded.in_tx_order, updated_at = now()
 WHERE (excluded."position", excluded.in_tx_order) > (c."position", c.in_tx_order)`;

export async function saveCheckpoint(db: Queryable, name: string, at: Cursor): Promise<void> {
  await db.query(SAVE_CHECKPOINT_SQL, [name, at.position, at.inTxOrder]);
}

export function cursorOf(e: { position: string; inTxOrder: number }): Cursor {
  return { position: e.position, inTxOrder: e.inTxOrder };
}
