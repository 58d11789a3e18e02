/**
 * Keeps ZITADEL's own River worker off: queue `notification` paused in
 * `queue.river_queue` (River's producers fetch nothing from a paused queue and keep an
 * existing paused_at when they start), announced with River's control NOTIFY for the
 * ZITADEL versions that listen (pgx driver), re-asserted periodically (an operator's
 * resume, or River's cleaner deleting an idle queue row, is undone on the next round).
 */
import type { Pool } from 'pg';

import type { Queryable } from '../eventstore/types.js';
import type { Logger } from '../logger.js';
import { RIVER_CONTROL_CHANNEL, RIVER_QUEUE } from './schema.js';

/**
 * River's QueueCreateOrSetUpdatedAt with paused_at, keeping an earlier paused_at (as
 * QueuePause does); updated_at is refreshed so River's queue cleaner keeps the row.
 * Returns whether the queue was running before.
 */
export const pauseQueueSql = `
WITH before AS (SELECT paused_at FROM queue.river_queue WHERE name = $1)
INSERT INTO queue.river_queue (name, created_at, metadata, paused_at, updated_at)
VALUES ($1, now(), '{}'::jsonb, now(), now())
ON CONFLICT (name) DO UPDATE
SET paused_at = coalesce(river_queue.paused_at, EXCLUDED.paused_at),
    updated_at = now()
RETURNING NOT EXISTS (SELECT 1 FROM before WHERE paused_at IS NOT NULL) AS was_running`;

export const controlNotifySql = `SELECT pg_notify($1, $2)`;

export const resumeQueueSql = `UPDATE queue.river_queue SET paused_at = NULL, updated_at = now() WHERE name = $1`;

function controlPayload(action: 'pause' | 'resume'): string {
  return JSON.stringify({ action, queue: RIVER_QUEUE });
}

/** Pauses the queue and sends the pause control NOTIFY. */
export async function pauseRiverQueue(db: Queryable): Promise<{ wasRunning: boolean }> {
  const { rows } = await db.query<{ was_running: boolean }>(pauseQueueSql, [RIVER_QUEUE]);
  await db.query(controlNotifySql, [RIVER_CONTROL_CHANNEL, controlPayload('pause')]);
  return { wasRunning: rows[0]?.was_running === true };
}

/** What the README tells operators to run when herald is removed (tests use it too). */
export async function resumeRiverQueue(db: Queryable): Promise<void> {
  await db.query(resumeQueueSql, [RIVER_QUEUE]);
  await db.query(controlNotifySql, [RIVER_CONTROL_CHANNEL, controlPayload('resume')]);
}

export interface PauseKeeper {
  /** Pauses once now (awaited at start), then every `everyMs`. */
  start(): Promise<void>;
  stop(): void;
}

/** @defaultValue every 10 s: well inside the 2 s–restart window in which ZITADEL could fetch. */
export function makePauseKeeper(pool: Pool, logger: Logger, everyMs = 10_000): PauseKeeper {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const once = async (): Promise<void> => {
    const { wasRunning } = await pauseRiverQueue(pool);
    if (wasRunning) logger.warn({ queue: RIVER_QUEUE }, 'River queue was running: paused it so only herald works its jobs');
  };
  const loop = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      once()
        .catch((err: unknown) => logger.warn({ err }, 'could not re-assert the River queue pause; retrying'))
        .finally(loop);
    }, everyMs);
    timer.unref();
  };
  return {
    async start() {
      await once();
      loop();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
