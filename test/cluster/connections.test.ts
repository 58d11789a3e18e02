/**
 * Connections per process and role (README, Operations): Redis connections by name from
 * CLIENT LIST (each carries the queue prefix, so this test sees only its own), Postgres
 * connections from pg_stat_activity on this test's database.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Role } from '../../src/app.js';
import { REDIS_URL } from '../helpers/env.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { waitUntil } from '../helpers/wait.js';

let h: Harness;
let admin: Redis;
beforeAll(async () => {
  h = await makeHarness();
  admin = new Redis(REDIS_URL);
});
afterAll(async () => {
  admin.disconnect();
  await h.close();
});

/** Names of this test's Redis connections, sorted, with the prefix replaced by P. */
async function redisNames(): Promise<string[]> {
  const list = String(await admin.call('CLIENT', 'LIST')).split('\n');
  return list
    .map((l) => /name=(\S*)/.exec(l)?.[1] ?? '')
    .filter((n) => n.includes(h.prefix))
    .map((n) => n.replace(h.prefix, 'P'))
    .sort();
}

async function pgConnections(): Promise<{ total: number; listening: number }> {
  const { rows } = await h.db.pool.query<{ total: number; listening: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE query ILIKE 'LISTEN%')::int AS listening
       FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'herald'`,
  );
  return rows[0] ?? { total: 0, listening: 0 };
}

const QUEUES = 'herald-producer-P';
const WORKER_COMMANDS = 'herald-worker-P';
// BullMQ names a worker's blocking connection <prefix>:<base64 of the queue name>.
const BLOCKING_REQUESTS = `P:${Buffer.from('notification-requests').toString('base64')}`;
const BLOCKING_RETRIES = `P:${Buffer.from('notification-retries').toString('base64')}`;

const CASES: { roles: Role[]; redis: string[]; listen: number }[] = [
  { roles: ['producer'], redis: [QUEUES], listen: 1 },
  { roles: ['worker'], redis: [QUEUES, WORKER_COMMANDS, BLOCKING_REQUESTS], listen: 0 },
  { roles: ['worker', 'retry-worker'], redis: [QUEUES, WORKER_COMMANDS, BLOCKING_REQUESTS, BLOCKING_RETRIES], listen: 0 },
  { roles: ['all'], redis: [QUEUES, WORKER_COMMANDS, BLOCKING_REQUESTS, BLOCKING_RETRIES], listen: 1 },
  { roles: ['dashboard'], redis: [QUEUES], listen: 0 },
];

describe('connections per process', () => {
  for (const c of CASES) {
    it(`--role ${c.roles.join(' --role ')}: Redis ${c.redis.length}, Postgres at most the pool size`, async () => {
      const workers = 6;
      const cfg = h.config({ HERALD_HTTP_PORT: '0', ZITADEL_NOTIFICATIONS_WORKERS: String(workers) });
      const herald = await h.start(cfg, c.roles, { producerLoops: true, http: { host: '127.0.0.1' } });
      try {
        const expected = [...c.redis].sort();
        const names = await waitUntil(
          async () => {
            const n = await redisNames();
            return n.length >= expected.length ? n : undefined;
          },
          { what: 'herald connections in CLIENT LIST' },
        );
        expect(names).toEqual(expected);
        // The producer holds one connection for LISTEN; everything else comes from the pool
        // (max(10, Workers + RetryWorkers + 4)) and only while in use.
        const pg = await waitUntil(
          async () => {
            const p = await pgConnections();
            return p.listening === c.listen ? p : undefined;
          },
          { what: `${c.listen} LISTEN connection(s)` },
        );
        expect(pg.total).toBeLessThanOrEqual(Math.max(10, workers + cfg.notifications.retryWorkers + 4));
      } finally {
        await herald.stop();
      }
      // Everything is closed on stop.
      expect(await redisNames()).toEqual([]);
      await waitUntil(async () => (await pgConnections()).total === 0, { what: 'Postgres connections closed' });
    });
  }
});
