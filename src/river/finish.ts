/**
 * River mode's write-back: each outcome finishes the row as River's executor would, only
 * while the row is still `running` with this attempt. `completed` and the user/session
 * `*.sent` event commit in one transaction. No notification.* event is ever written.
 */
import type { Pool } from 'pg';

import { asDependency, HeraldError } from '../errors.js';
import { push } from '../eventstore/push.js';
import type { EventCommand } from '../eventstore/types.js';
import { targetExists } from '../worker/outcome.js';
import { recordAnsweredSql } from './handled.js';
import type { RetryPlan } from './retry.js';
import { type AttemptError, finishJob, type RiverJob } from './sql.js';

/** River's JobCancelError text. */
export const CANCEL_PREFIX = 'JobCancelError: ';

/** The row is no longer ours (finished or rescued by someone else): leave it alone. */
export class RowGoneError extends HeraldError {
  constructor(id: string) {
    super('RIVER_ROW_GONE', `River job ${id} is no longer running this attempt`);
  }
}

/** River's AttemptError element; `at` is the attempt's start (attempted_at), RFC 3339 with nanoseconds. */
export function attemptError(job: Pick<RiverJob, 'attempt' | 'attemptedAt'>, error: string): AttemptError {
  return { at: job.attemptedAt.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'), attempt: job.attempt, error, trace: '' };
}

type Job = Pick<RiverJob, 'id' | 'attempt' | 'attemptedAt'>;

/** `completed` (+ finalized_at) and the sent event together; only `completed` when there is no target to write to. */
export function completeWithSent(pool: Pool, job: Job, sent: EventCommand | undefined): Promise<void> {
  return asDependency('completing the River job', async () => {
    const finish = async (db: Pick<Pool, 'query'>): Promise<void> => {
      const state = await finishJob(db, { id: job.id, attempt: job.attempt, state: 'completed' });
      if (state === undefined) throw new RowGoneError(job.id);
      // Remembered for the duplicate check (handled.ts), in the same transaction as the sent event.
      await db.query(recordAnsweredSql, [job.id]);
    };
    if (sent && (await targetExists(pool, sent))) {
      await push(pool, [sent], { within: finish });
    } else {
      await finish(pool);
    }
  });
}

/** `cancelled` with `JobCancelError: <reason>`; returns false when the row was not ours any more. */
export async function cancelJob(pool: Pool, job: Job, reason: string): Promise<boolean> {
  const state = await asDependency('cancelling the River job', () =>
    finishJob(pool, { id: job.id, attempt: job.attempt, state: 'cancelled', error: attemptError(job, CANCEL_PREFIX + reason) }),
  );
  return state !== undefined;
}

/** A failed attempt: `discarded`, or `available`/`retryable` at the planned time (`cancelled` after an admin cancel). */
export async function failJob(pool: Pool, job: Job, error: string, plan: RetryPlan): Promise<string | undefined> {
  return asDependency('recording the River job error', () =>
    finishJob(pool, {
      id: job.id,
      attempt: job.attempt,
      state: plan.state,
      error: attemptError(job, error),
      ...(plan.scheduledAt ? { scheduledAt: plan.scheduledAt } : {}),
    }),
  );
}
