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
