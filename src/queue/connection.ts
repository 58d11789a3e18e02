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

/** Fails fast (instead of hanging) when Redis refuses us: wrong password, unreachable. */
export async function pingRedis(redis: Redis, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.ping(), deadline]);
  } catch (err) {
    throw new Error(`Redis unavailable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
