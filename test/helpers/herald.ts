/** Runs herald in-process against a test database, Redis prefix and SMTP sink. */
import { pino } from 'pino';

import { type Herald, type Role, startHerald, type StartOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { migrate } from '../../src/eventstore/schema.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { REDIS_URL } from './env.js';
import { dropPrefix, testPrefix } from './redis.js';
import { KEYS_ENV } from './zitadel.js';

export interface Harness {
  readonly db: TestDatabase;
  readonly prefix: string;
  config(env?: Record<string, string>): Config;
  start(cfg: Config, roles?: readonly Role[], opts?: StartOptions): Promise<Herald>;
  close(): Promise<void>;
}

export const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function makeHarness(): Promise<Harness> {
  const db = await createTestDatabase();
  await migrate(db.pool, { logger: silent });
  const prefix = testPrefix();
  const running: Herald[] = [];
  return {
    db,
    prefix,
    config(env = {}) {
      return loadConfig({
        DATABASE_URL: db.url,
        REDIS_URL,
        HERALD_QUEUE_PREFIX: prefix,
        HERALD_ENCRYPTION_KEYS: KEYS_ENV,
        HERALD_SHUTDOWN_GRACE: '5s',
        LOG_LEVEL: 'silent',
        ...env,
      });
    },
    async start(cfg, roles = ['all'], opts = { producerLoops: false }) {
      const herald = await startHerald(cfg, roles, silent, opts);
      running.push(herald);
      return herald;
    },
    async close() {
      await Promise.allSettled(running.map((h) => h.stop()));
      await dropPrefix(prefix);
      await db.drop();
    },
  };
}
