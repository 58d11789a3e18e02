/**
 * Closing the workers within HERALD_SHUTDOWN_GRACE:
 * 1. stop fetching and let in-flight jobs finish, for the grace period minus a reserve;
 * 2. then abort what is still running (the job's AbortSignal reaches the channel, e.g.
 *    nodemailer drops a queued message or closes the connection of one being sent). The
 *    attempt ends the usual way for a failed send: notification.retry.requested is written
 *    and the job goes back to Redis as a delayed retry that any other replica picks up;
 * 3. wait for that within the reserve. If something still hangs (Postgres gone), give up:
 *    the job stays active, its lock lapses, and another replica's stalled check takes it.
 *
 * BullMQ's Worker.close() is memoised, so close(true) after close() would only wait for the
 * same promise again: aborting is the only way to hurry a close that has started.
 */
import type { Worker } from 'bullmq';

import type { Logger } from '../logger.js';

/** Reason given to aborted jobs (shows up in the job's failedReason). */
export const SHUTDOWN_REASON = 'herald is shutting down';

/** Part of the grace period kept for releasing aborted jobs: 20 %, between 200 ms and 5 s. */
export function releaseReserveMs(graceMs: number): number {
  return Math.min(graceMs, Math.min(5000, Math.max(200, graceMs * 0.2)));
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export async function closeWorkers(workers: readonly Worker[], graceMs: number, logger: Logger): Promise<void> {
  if (workers.length === 0) return;
  const reserveMs = releaseReserveMs(graceMs);
  const closed = Promise.all(workers.map((w) => w.close())).then(() => 'closed' as const);
  if ((await within(closed, graceMs - reserveMs)) === 'closed') return;

  logger.warn({ graceMs }, 'grace period over: aborting in-flight jobs and releasing them to other replicas');
  for (const w of workers) w.cancelAllJobs(SHUTDOWN_REASON);
  if ((await within(closed, reserveMs)) === 'closed') return;
  logger.error({ reserveMs }, 'in-flight jobs did not stop after abort; their locks lapse and another replica takes them over (stalled check)');
}
