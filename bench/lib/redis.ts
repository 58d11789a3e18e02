/** Redis side of a scenario: its own key prefix, and samplers for memory and live jobs. */
import { randomBytes } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { REDIS_URL } from '../../test/helpers/env.js';

export function benchPrefix(): string {
  return `bench-${randomBytes(5).toString('hex')}`;
}

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Every key under the prefix goes when a scenario ends (the tests' helper). */
export { dropPrefix } from '../../test/helpers/redis.js';

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export async function redisVersion(): Promise<string> {
  const redis = redisClient();
  try {
    return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  } finally {
    redis.disconnect();
  }
}

export async function redisPid(): Promise<number> {
  const redis = redisClient();
  try {
    return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);
  } finally {
    redis.disconnect();
  }
}

export interface RedisSampler {
  /** Peak used_memory (bytes), the value at start, and the peak of live jobs under the prefix. */
  stop(): Promise<{ peakUsed: number; startUsed: number; peakLiveJobs: number; peakAllJobs: number }>;
}

/**
 * Samples INFO memory every intervalMs, and the request queue's job counts. used_memory is
 * server-wide (other tenants count too), so the start value is kept as the baseline.
 */
export async function sampleRedis(prefix: string, intervalMs = 250): Promise<RedisSampler> {
  const redis = redisClient();
  const queue = new Queue('notification-requests', { connection: redis, prefix });
  const startUsed = await usedMemory(redis);
  let peakUsed = startUsed;
  let peakLiveJobs = 0;
  let peakAllJobs = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [used, counts] = await Promise.all([
        usedMemory(redis),
        queue.getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed'),
      ]);
      peakUsed = Math.max(peakUsed, used);
      const live = (counts.active ?? 0) + (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
      peakLiveJobs = Math.max(peakLiveJobs, live);
      peakAllJobs = Math.max(peakAllJobs, live + (counts.completed ?? 0) + (counts.failed ?? 0));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await queue.close();
      redis.disconnect();
      return { peakUsed, startUsed, peakLiveJobs, peakAllJobs };
    },
  };
}
