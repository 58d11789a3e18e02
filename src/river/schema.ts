/**
 * What herald knows about River's tables as ZITADEL v2.71+ leaves them (zitadel-river.md):
 * schema `queue`, migration line `main` versions 1..6, one queue and one job kind. herald
 * never creates or alters these tables outside `herald demo` (ZITADEL's setup owns them).
 */
import type { Queryable } from '../eventstore/types.js';

export const RIVER_SCHEMA = 'queue';
/** ZITADEL's notification queue (internal/repository/notification: QueueName). */
export const RIVER_QUEUE = 'notification';
/** notification.Request.Kind(). */
export const RIVER_KIND = 'notification_request';
/** River's channels are schema-qualified (PGNotifyMany: `<schema>.<topic>`), so they need quoting. */
export const RIVER_INSERT_CHANNEL = `${RIVER_SCHEMA}.river_insert`;
export const RIVER_CONTROL_CHANNEL = `${RIVER_SCHEMA}.river_control`;
/** River keeps the last 100 entries of attempted_by (JobGetAvailable's max_attempted_by). */
export const MAX_ATTEMPTED_BY = 100;
/** River's scheduler interval: a retry due within it is made `available` at once, else `retryable`. */
export const SCHEDULER_INTERVAL_MS = 5_000;
/** River's rescuer takes back `running` rows older than this (ZITADEL keeps River's default). */
export const RESCUE_AFTER_MS = 60 * 60 * 1000;

export const riverTablesSql = `
SELECT to_regclass('queue.river_job') IS NOT NULL AS job,
       to_regclass('queue.river_queue') IS NOT NULL AS queue,
       to_regclass('queue.river_migration') IS NOT NULL AS migration`;

export const riverVersionSql = `SELECT max(version)::int AS version FROM queue.river_migration WHERE line = 'main'`;

/** Whether River's job and queue tables exist (ZITADEL v2.71+ has run its setup). */
export async function riverTablesPresent(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ job: boolean; queue: boolean }>(riverTablesSql);
  return rows[0]?.job === true && rows[0]?.queue === true;
}

/** The highest applied migration of line `main`, or undefined without the table. */
export async function riverMigrationVersion(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ migration: boolean }>(riverTablesSql);
  if (rows[0]?.migration !== true) return undefined;
  const v = await db.query<{ version: number | null }>(riverVersionSql);
  return v.rows[0]?.version ?? undefined;
}
