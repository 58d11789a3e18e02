/**
 * River attempts in Redis: one BullMQ queue of their own, one job per River attempt under
 * an idempotent id. Job data holds the row's id and attempt only (the args, with the
 * encrypted code, stay in Postgres).
 */
import { type JobsOptions, Queue } from 'bullmq';

import type { Logger } from '../logger.js';
import type { RedisClient as Redis } from '../queue/connection.js';

export const RIVER_JOBS_QUEUE = 'notification-river';
export const RIVER_JOB_NAME = 'river';

export interface RiverJobData {
  readonly riverId: string;
  readonly attempt: number;
  readonly instanceId?: string;
  /** Set once the message has left, when finishing the row failed: never send twice. */
  readonly delivered?: { readonly at: string; readonly generatorInfo?: { id?: string; verificationId?: string } };
}

/**
 * `river/<id>/<attempt>`. BullMQ refuses custom ids that are integers or contain ':' (it
 * lets three ':'-separated parts through only for old repeatable jobs, a check it marks to
 * be tightened), so the spec's `river:<id>:<attempt>` is spelled with '/', as event mode's ids are.
 */
export function riverJobId(riverId: string, attempt: number): string {
  return `river/${riverId}/${attempt}`;
}

export type RiverQueue = Queue<RiverJobData>;

export const riverJobOptions: JobsOptions = {
  // River keeps the retry state: one BullMQ attempt per River attempt.
  attempts: 1,
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

export function makeRiverQueue(opts: { connection: Redis; prefix: string; logger: Logger }): RiverQueue {
  const queue = new Queue<RiverJobData>(RIVER_JOBS_QUEUE, {
    connection: opts.connection,
    prefix: opts.prefix,
    defaultJobOptions: riverJobOptions,
  });
  queue.on('error', (err: Error) => opts.logger.warn({ err, queue: RIVER_JOBS_QUEUE }, 'queue error'));
  return queue;
}

/** A job in one of these states will still run. */
export const LIVE_STATES: ReadonlySet<string> = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/** Jobs in Redis that still hold a claimed row (the producer's window). */
export async function liveRiverJobs(queue: RiverQueue): Promise<number> {
  const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
