/**
 * Redis connections (house style §17): producers fail fast when Redis is away (the
 * eventstore keeps the work; the next tick re-adds it), workers wait for Redis forever.
 */
import { Redis } from 'ioredis';

import type { Logger } from '../logger.js';

export type RedisRole = 'producer' | 'worker';

export function makeRedis(url: string, role: RedisRole, logger: Logger): Redis {
  const redis = new Redis(url, {
    // BullMQ requires null for blocking worker connections.
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectionName: `herald-${role}`,
    lazyConnect: false,
  });
  redis.on('error', (err: Error) => logger.warn({ err, role }, 'redis connection error'));
  return redis;
}

/**
 * Waits until Redis accepts us, failing fast (instead of hanging) when it refuses: wrong
 * password, unreachable. The first connection error is the one reported.
 */
export async function pingRedis(redis: Redis, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  let onError: ((err: Error) => void) | undefined;
  try {
    if (redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        onReady = resolve;
        onError = reject;
        redis.once('ready', onReady);
        redis.once('error', onError);
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
    }
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis unavailable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    if (onReady) redis.off('ready', onReady);
    if (onError) redis.off('error', onError);
  }
}
