/** One BullMQ prefix per test; removed afterwards with every key under it. */
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { REDIS_URL } from './env.js';

export function testPrefix(): string {
  return `t-${randomUUID()}`;
}

/** Deletes every key under `${prefix}:`. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
