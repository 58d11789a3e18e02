/** The SQL the ops endpoints run: readiness probe, producer lag. */
import { NOTIFICATION_AGGREGATE, NotificationEvent } from '../eventstore/notification-types.js';
import type { Queryable } from '../eventstore/types.js';

/** The producer's checkpoint for the requests tail (src/producer/producer.ts, TAILS.requests). */
export const REQUESTS_CHECKPOINT = 'producer.requests';

export async function selectOne(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

/**
 * Positions are epoch seconds, so the distance between the newest request and the checkpoint
 * is a lag in seconds. Uses the partial index herald_notification_position (backward scan).
 */
const PRODUCER_LAG_SQL = `
SELECT GREATEST(0, COALESCE((
         SELECT max(e."position") FROM eventstore.events2 e
          WHERE e.aggregate_type = $1 AND e.event_type = $2), c."position") - c."position")::float8 AS lag
  FROM herald.checkpoints c
 WHERE c.name = $3`;

/** undefined until the producer has written its first checkpoint. */
export async function selectProducerLagSeconds(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ lag: number }>(PRODUCER_LAG_SQL, [NOTIFICATION_AGGREGATE, NotificationEvent.requested, REQUESTS_CHECKPOINT]);
  return rows[0]?.lag;
}
