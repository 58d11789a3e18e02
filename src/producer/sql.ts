/**
 * The producer's SQL. Pending = a notification event with no later event on its aggregate
 * (ZITADEL's worker selection), within the MaxTtl window.
 *
 * The tail reads forward from a checkpoint in (position, in_tx_order) order, but only below
 * the start of the oldest open ZITADEL pusher transaction (ZITADEL's projection guard), so an
 * event that commits late with a lower position is never stepped over. The sweep reads the
 * whole window without checkpoint and guard: the safety net when herald's role cannot see
 * other sessions' xact_start (needs pg_read_all_stats), and the body of `herald reconcile`.
 * Both use the partial index herald_notification_position (migrate creates it).
 */
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

const PENDING_SQL = `
WITH guard AS (
  SELECT COALESCE(EXTRACT(EPOCH FROM min(xact_start)), EXTRACT(EPOCH FROM now())) AS pos
    FROM pg_stat_activity
   WHERE datname = current_database()
     AND application_name LIKE 'zitadel_es_pusher_%'
     AND state <> 'idle'
)
SELECT e.instance_id, e.aggregate_id, e."sequence", e.event_type, e.created_at,
       e."position"::text AS position, e.in_tx_order,
       CASE WHEN jsonb_typeof(e.payload->'backOff') = 'number'
            THEN (e.payload->>'backOff') END AS back_off,
       COALESCE(e.payload->'request'->'isOTP' = 'true'::jsonb, false) AS is_otp
  FROM eventstore.events2 e, guard
 WHERE e.aggregate_type = 'notification'
   AND e.event_type = $1
   AND (e."position", e.in_tx_order) > ($2::numeric, $3::integer)
   AND ($4::boolean IS FALSE OR e."position" < guard.pos)
   AND e."position" > EXTRACT(EPOCH FROM now()) - $5::double precision
   AND NOT EXISTS (
         SELECT 1 FROM eventstore.events2 l
          WHERE l.instance_id = e.instance_id
            AND l.aggregate_type = 'notification'
            AND l.aggregate_id = e.aggregate_id
            AND l."sequence" > e."sequence")
   AND ($6::double precision = 0 OR e.instance_id IN (
         SELECT DISTINCT a.instance_id FROM eventstore.events2 a
          WHERE a.created_at > now() - make_interval(secs => $6::double precision)))
 ORDER BY e."position", e.in_tx_order
 LIMIT $7`;

export const START: Cursor = { position: '0', inTxOrder: 0 };

/** Pending events of one type after `after`, oldest first. */
export async function selectPending(
  db: Queryable,
  q: {
    eventType: string;
    after: Cursor;
    /** true: only below the oldest open pusher transaction (tail); false: sweep. */
    guarded: boolean;
    windowMs: number;
    activeInstancesMs: number;
    limit: number;
  },
): Promise<PendingEvent[]> {
  const { rows } = await db.query<PendingRow>(PENDING_SQL, [
    q.eventType,
    q.after.position,
    q.after.inTxOrder,
    q.guarded,
    q.windowMs / 1000,
    q.activeInstancesMs / 1000,
    q.limit,
  ]);
  return rows.map((r) => ({
    instanceId: r.instance_id,
    aggregateId: r.aggregate_id,
    sequence: Number(r.sequence),
    eventType: r.event_type,
    createdAt: r.created_at,
    position: r.position,
    inTxOrder: r.in_tx_order,
    backOffNs: r.back_off === null ? null : Number(r.back_off),
    isOTP: r.is_otp,
  }));
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
