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
 *
 * The same reads give `herald_oldest_pending_seconds{source}`: the age of the oldest request
 * not finished yet (a stuck or starved backlog shows here before anyone complains). Each is
 * one bounded, index-driven statement; past the cap, the count and the age are lower bounds.
 */
import { NOTIFICATION_AGGREGATE, NotificationEvent } from '../eventstore/notification-types.js';
import type { Queryable } from '../eventstore/types.js';
import { RIVER_KIND, RIVER_QUEUE } from '../river/schema.js';

export interface BacklogSource {
  /** Short, fixed name (logged when the source cannot be read). */
  readonly name: string;
  /** Notifications at this source that are not finished yet (including those BullMQ holds). */
  unfinished(): Promise<number>;
  /**
   * Job counts of the BullMQ queue holding this source's jobs, when it is not one of event
   * mode's two queues (River's `notification-river`): its live jobs are subtracted and its
   * waiting jobs counted like theirs.
   */
  jobs?(): Promise<JobCounts>;
}

/** A source of requests as `herald_oldest_pending_seconds` names it (HERALD_SOURCE's values). */
export type PendingSourceLabel = 'events' | 'river';

export interface PendingAgeSource {
  readonly label: PendingSourceLabel;
  /** Seconds since the oldest unfinished request was written; undefined when none is pending. */
  oldestPendingSeconds(): Promise<number | undefined>;
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
SELECT count(*)::int AS unfinished, EXTRACT(EPOCH FROM now() - min(pending.created_at))::float8 AS oldest_age FROM (
  SELECT e.created_at FROM eventstore.events2 e
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

export interface PendingState {
  readonly unfinished: number;
  /** Seconds since the oldest pending request was written; undefined when none is pending. */
  readonly oldestAgeSeconds: number | undefined;
}

export async function selectUnfinishedNotifications(db: Queryable, maxTtlMs: number, cap = BACKLOG_COUNT_CAP): Promise<number> {
  return (await selectPendingNotifications(db, maxTtlMs, cap)).unfinished;
}

/** Pending notifications inside MaxTtl: how many (capped) and the oldest one's age. */
export async function selectPendingNotifications(db: Queryable, maxTtlMs: number, cap = BACKLOG_COUNT_CAP): Promise<PendingState> {
  const { rows } = await db.query<{ unfinished: number; oldest_age: number | null }>(UNFINISHED_SQL, [
    NOTIFICATION_AGGREGATE,
    NotificationEvent.requested,
    NotificationEvent.retryRequested,
    maxTtlMs / 1000,
    cap,
  ]);
  const row = rows[0];
  return { unfinished: row?.unfinished ?? 0, oldestAgeSeconds: row?.oldest_age === null ? undefined : Math.max(0, row?.oldest_age ?? 0) };
}

/**
 * One read serves both gauges of a scrape: prom-client collects every metric at once, so a
 * read still in flight is shared and the window is scanned once per scrape, not per gauge.
 */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined;
  return () =>
    (inflight ??= read().finally(() => {
      inflight = undefined;
    }));
}

/** The eventstore as a backlog source (event mode), and its oldest pending request. */
export function eventstoreBacklog(db: Queryable, maxTtlMs: number): BacklogSource & PendingAgeSource {
  const read = shared(() => selectPendingNotifications(db, maxTtlMs));
  return {
    name: 'eventstore',
    label: 'events',
    unfinished: async () => (await read()).unfinished,
    oldestPendingSeconds: async () => (await read()).oldestAgeSeconds,
  };
}

/**
 * River mode: the oldest `available`, `retryable` or `running` row of herald's queue and kind.
 * An index range scan of river_job_prioritized_fetching_index (state, queue, …) plus one heap
 * fetch per pending row, capped like the count above.
 */
const RIVER_OLDEST_SQL = `
SELECT EXTRACT(EPOCH FROM now() - min(pending.created_at))::float8 AS oldest_age FROM (
  SELECT j.created_at FROM queue.river_job j
   WHERE j.state IN ('available', 'retryable', 'running')
     AND j.queue = $1
     AND j.kind = $2
   LIMIT $3) pending`;

export async function selectRiverOldestPendingSeconds(db: Queryable, cap = BACKLOG_COUNT_CAP): Promise<number | undefined> {
  const { rows } = await db.query<{ oldest_age: number | null }>(RIVER_OLDEST_SQL, [RIVER_QUEUE, RIVER_KIND, cap]);
  const age = rows[0]?.oldest_age;
  return age === null || age === undefined ? undefined : Math.max(0, age);
}

/** River's jobs table as a source of `herald_oldest_pending_seconds{source="river"}`. */
export function riverPendingAge(db: Queryable): PendingAgeSource {
  return { label: 'river', oldestPendingSeconds: () => selectRiverOldestPendingSeconds(db) };
}

/**
 * River mode: rows of herald's queue and kind that are ready or held by herald — `available`
 * or `retryable`/`scheduled` and due (the producer makes those available on its next tick),
 * or `running` (claimed; a BullMQ job holds it until its outcome is written). The same index
 * range scan of river_job_prioritized_fetching_index as RIVER_OLDEST_SQL (scheduled_at is in
 * the index), one heap fetch per row for the kind, capped.
 */
export const RIVER_UNFINISHED_SQL = `
SELECT count(*)::int AS unfinished FROM (
  SELECT 1 FROM queue.river_job j
   WHERE j.state IN ('available', 'retryable', 'scheduled', 'running')
     AND j.queue = $1
     AND j.kind = $2
     AND (j.state = 'running' OR j.scheduled_at <= now())
   LIMIT $3) pending`;

export async function selectRiverUnfinished(db: Queryable, cap = BACKLOG_COUNT_CAP): Promise<number> {
  const { rows } = await db.query<{ unfinished: number }>(RIVER_UNFINISHED_SQL, [RIVER_QUEUE, RIVER_KIND, cap]);
  return rows[0]?.unfinished ?? 0;
}

/**
 * River's jobs table as a source of `herald_backlog`, with the counts of the BullMQ queue
 * that holds its claimed rows (notification-river): a claimed row is live there until
 * finished, a row not claimed yet is backlog, and so is a job waiting in that queue.
 */
export function riverBacklog(db: Queryable, jobs: () => Promise<JobCounts>): BacklogSource {
  return { name: 'river', unfinished: () => selectRiverUnfinished(db), jobs };
}

/** Job counts by BullMQ state (both queues summed), as getJobCounts returns them. */
export type JobCounts = Readonly<Record<string, number | undefined>>;

/** Live = held by BullMQ and not finished; waiting = ready to run now. */
export function backlogOf(unfinishedAtSources: number, jobs: JobCounts): number {
  const n = (state: string): number => jobs[state] ?? 0;
  const live = n('waiting') + n('prioritized') + n('active') + n('delayed') + n('waiting-children');
  return Math.max(0, unfinishedAtSources - live) + n('waiting') + n('prioritized');
}
