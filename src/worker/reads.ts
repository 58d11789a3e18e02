/**
 * The worker's per-job reads, batched across the jobs that run at the same time (one query
 * per batch instead of one per job; util/batcher.ts): the notification aggregate and the
 * recipient's user events. Each query takes (instance, aggregate) pairs and reads every pair
 * with its own primary-key range scan (LATERAL), so the plan does not depend on table
 * statistics, and a row can only answer the pair of its own instance.
 */
import { EVENT_COLUMNS, type EventRow, mapEventRow } from '../eventstore/read.js';
import type { Queryable, StoredEvent } from '../eventstore/types.js';
import { USER_EVENT_TYPES, type UserEventRow } from '../instance/notify-user.js';
import { type Batcher, makeBatcher } from '../util/batcher.js';

export interface AggregateKey {
  readonly instanceId: string;
  readonly aggregateId: string;
}

export interface WorkerReads {
  /** All events of a notification aggregate, oldest first ([] when there is none). */
  notification(key: AggregateKey): Promise<StoredEvent[]>;
  /** The user's events of the types the NotifyUser reducer reads, in sequence order. */
  userEvents(key: AggregateKey): Promise<UserEventRow[]>;
}

const idOf = (k: AggregateKey): string => `${k.instanceId}\u0000${k.aggregateId}`;

export const readNotificationsSql = `SELECT k.n, e.*
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(instance_id, aggregate_id, n)
 CROSS JOIN LATERAL (
   SELECT ${EVENT_COLUMNS}
     FROM eventstore.events2 e
    WHERE e.instance_id = k.instance_id AND e.aggregate_type = 'notification' AND e.aggregate_id = k.aggregate_id
    ORDER BY e."sequence") e
 ORDER BY k.n, e."sequence"`;

export const readUsersEventsSql = `SELECT k.n, u.*
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(instance_id, aggregate_id, n)
 CROSS JOIN LATERAL (
   SELECT e.instance_id, e.aggregate_id, e.event_type, e."sequence", e.payload, e."owner",
          to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_utc
     FROM eventstore.events2 e
    WHERE e.instance_id = k.instance_id AND e.aggregate_type = 'user' AND e.aggregate_id = k.aggregate_id
      AND e.event_type = ANY($3::TEXT[])
    ORDER BY e."sequence") u
 ORDER BY k.n, u."sequence"`;

function grouped<R extends { instance_id: string; aggregate_id: string }>(rows: readonly R[]): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of rows) {
    const id = idOf({ instanceId: r.instance_id, aggregateId: r.aggregate_id });
    const list = out.get(id);
    if (list) list.push(r);
    else out.set(id, [r]);
  }
  return out;
}

export function makeWorkerReads(db: Queryable, opts: { maxBatch?: number } = {}): WorkerReads {
  const pairs = (keys: readonly AggregateKey[]): [string[], string[]] => [keys.map((k) => k.instanceId), keys.map((k) => k.aggregateId)];
  const notifications: Batcher<AggregateKey, StoredEvent[]> = makeBatcher({
    idOf,
    ...(opts.maxBatch === undefined ? {} : { maxBatch: opts.maxBatch }),
    async run(keys) {
      const { rows } = await db.query<EventRow>(readNotificationsSql, pairs(keys));
      const out = new Map<string, StoredEvent[]>();
      for (const [id, list] of grouped(rows)) out.set(id, list.map(mapEventRow));
      return out;
    },
  });
  const users: Batcher<AggregateKey, UserEventRow[]> = makeBatcher({
    idOf,
    ...(opts.maxBatch === undefined ? {} : { maxBatch: opts.maxBatch }),
    async run(keys) {
      const { rows } = await db.query<UserEventRow & { instance_id: string; aggregate_id: string }>(readUsersEventsSql, [
        ...pairs(keys),
        USER_EVENT_TYPES,
      ]);
      return grouped(rows);
    },
  });
  return {
    notification: async (key) => (await notifications.load(key)) ?? [],
    userEvents: async (key) => (await users.load(key)) ?? [],
  };
}
