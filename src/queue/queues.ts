/**
 * The two BullMQ queues and the job options that carry ZITADEL's retry policy.
 *
 * Every key herald leaves in Redis has a bound (the eventstore, not Redis, is the record):
 * - live jobs: at most a window per instance (the producer, src/producer);
 * - finished jobs: RETENTION, by age and by count, whichever comes first;
 * - the event stream of each queue: EVENTS_MAX_LEN entries (herald reads no events; Bull
 *   Board neither);
 * - the rest is BullMQ's fixed bookkeeping per queue (meta, id counter, markers, stalled
 *   set, priority counter). herald writes no job logs, progress, metrics or repeat keys.
 */
import { type DefaultJobOptions, Queue } from 'bullmq';

import type { NotificationsConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from './connection.js';
import { type NotificationJobData, QUEUE, type QueueName } from './names.js';

export const BACKOFF_TYPE = 'zitadel';

export type NotificationQueue = Queue<NotificationJobData>;

/**
 * Finished jobs stay visible (dashboard, repair) for a while: ages in seconds; counts per
 * queue (HERALD_KEEP_JOBS, default 10 000). BullMQ trims them whenever a job finishes, so
 * Redis stays flat under steady load.
 */
export const RETENTION = {
  completed: { age: 24 * 3600 },
  failed: { age: 7 * 24 * 3600 },
} as const;

/** Approximate cap of each queue's event stream (XADD MAXLEN ~). BullMQ's default is 10 000. */
export const EVENTS_MAX_LEN = 1000;

/** Default of HERALD_KEEP_JOBS. */
export const KEEP_JOBS = 10_000;

export function jobOptions(cfg: Pick<NotificationsConfig, 'maxAttempts'>, keepJobs: number = KEEP_JOBS): DefaultJobOptions {
  return {
    attempts: cfg.maxAttempts,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: { ...RETENTION.completed, count: keepJobs },
    removeOnFail: { ...RETENTION.failed, count: keepJobs },
  };
}

export interface Queues {
  readonly requests: NotificationQueue;
  readonly retries: NotificationQueue;
  byName(name: QueueName): NotificationQueue;
  close(): Promise<void>;
}

export function makeQueues(opts: {
  connection: RedisClient;
  /** BullMQ's prefix: bullPrefix(HERALD_QUEUE_PREFIX, mode), hash-tagged in cluster mode. */
  prefix: string;
  notifications: Pick<NotificationsConfig, 'maxAttempts'>;
  /** Finished jobs kept per queue and state (HERALD_KEEP_JOBS). */
  keepJobs?: number;
  logger: Logger;
}): Queues {
  const make = (name: QueueName): NotificationQueue => {
    const queue = new Queue<NotificationJobData>(name, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: jobOptions(opts.notifications, opts.keepJobs),
      // Stored in the queue's meta key: workers cap the stream with it too.
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
    queue.on('error', (err: Error) => opts.logger.warn({ err, queue: name }, 'queue error'));
    return queue;
  };
  const requests = make(QUEUE.requests);
  const retries = make(QUEUE.retries);
  return {
    requests,
    retries,
    byName: (name) => (name === QUEUE.requests ? requests : retries),
    async close() {
      await Promise.allSettled([requests.close(), retries.close()]);
    },
  };
}
