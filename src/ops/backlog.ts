/**
 * The backlog figure workers are scaled on (`herald_backlog`, src/ops/metrics.ts).
 *
 * A source is where requests come from (the eventstore today; River can add its own). It
 * reports how many of its notifications are not finished yet, whether or not a BullMQ job
 * holds them already: a job stays pending at its source until its outcome is written. Every
 * live job therefore comes from exactly one source, and
 *
 *   backlog = max(0, Σ sources − live jobs) + waiting jobs
 *
 * counts each unfinished, not-yet-started notification once: the ones still only at the
 * source (the producer's windows keep most of a large backlog out of Redis) plus the ones
 * waiting in Redis. Jobs in flight (active) and retries that are not due (delayed) are not
 * backlog.
 */
import { NOTIFICATION_AGGREGATE, NotificationEvent } from '../eventstore/notification-types.js';
import type { Queryable } from '../eventstore/types.js';

export interface BacklogSource {
  /** Short, fixed name (logged when the source cannot be read). */
  readonly name: string;
  /** Notifications at this source that are not finished yet (including those BullMQ holds). */
  unfinished(): Promise<number>;
}

/**
 * The count stops here: past it, the figure only says "more than any sane maxReplicaCount
 * × per-replica target", and the scrape stays cheap on a huge backlog.
 */
export const BACKLOG_COUNT_CAP = 100_000;

/**
 * Pending notifications inside MaxTtl: the latest event on the aggregate is a request or a
 * retry request. A range scan of the partial index herald_notification_position plus one
 * primary-key probe per row (the producer's "no later event" check), capped.
 */
const UNFINISHED_SQL = `
SELECT count(*)::int AS unfinished FROM (
  SELECT 1 FROM eventstore.events2 e
   WHERE e.aggregate_type = $1
     AND e.event_type IN ($2, $3)
     AND e."position" > EXTRACT(EPOCH FROM now()) - $4::double precision
     AND e."sequence" = (
           SELECT l."sequence" FROM eventstore.events2 l
            WHERE l.instance_id = e.instance_id
              AND l.aggregate_type = $1
              AND l.aggregate_id = e.aggregate_id
            ORDER BY l."sequence" DESC
            LIMIT 1)
   LIMIT $5) pending`;

export async function selectUnfinishedNotifications(db: Queryable, maxTtlMs: number, cap = BACKLOG_COUNT_CAP): Promise<number> {
  const { rows } = await db.query<{ unfinished: number }>(UNFINISHED_SQL, [
    NOTIFICATION_AGGREGATE,
    NotificationEvent.requested,
    NotificationEvent.retryRequested,
    maxTtlMs / 1000,
    cap,
  ]);
  return rows[0]?.unfinished ?? 0;
}

/** The eventstore as a backlog source (event mode). */
export function eventstoreBacklog(db: Queryable, maxTtlMs: number): BacklogSource {
  return { name: 'eventstore', unfinished: () => selectUnfinishedNotifications(db, maxTtlMs) };
}

/** Job counts by BullMQ state (both queues summed), as getJobCounts returns them. */
export type JobCounts = Readonly<Record<string, number | undefined>>;

/** Live = held by BullMQ and not finished; waiting = ready to run now. */
export function backlogOf(unfinishedAtSources: number, jobs: JobCounts): number {
  const n = (state: string): number => jobs[state] ?? 0;
  const live = n('waiting') + n('prioritized') + n('active') + n('delayed') + n('waiting-children');
  return Math.max(0, unfinishedAtSources - live) + n('waiting') + n('prioritized');
}
