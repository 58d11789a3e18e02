/** The two BullMQ queues and the job options that carry ZITADEL's retry policy. */
import { type DefaultJobOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { NotificationsConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { type NotificationJobData, QUEUE, type QueueName } from './names.js';

export const BACKOFF_TYPE = 'zitadel';

export type NotificationQueue = Queue<NotificationJobData>;

export function jobOptions(cfg: Pick<NotificationsConfig, 'maxAttempts'>): DefaultJobOptions {
  return {
    attempts: cfg.maxAttempts,
    backoff: { type: BACKOFF_TYPE },
    // Finished jobs stay visible for a while; the eventstore, not Redis, is the record.
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}

export interface Queues {
  readonly requests: NotificationQueue;
  readonly retries: NotificationQueue;
  byName(name: QueueName): NotificationQueue;
  close(): Promise<void>;
}

export function makeQueues(opts: {
  connection: Redis;
  prefix: string;
  notifications: Pick<NotificationsConfig, 'maxAttempts'>;
  logger: Logger;
}): Queues {
  const make = (name: QueueName): NotificationQueue => {
    const queue = new Queue<NotificationJobData>(name, {
      connection: opts.connection,
      prefix: opts.prefix,
      defaultJobOptions: jobOptions(opts.notifications),
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
