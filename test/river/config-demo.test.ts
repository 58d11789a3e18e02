/**
 * HERALD_SOURCE, `herald migrate` leaving River's tables to ZITADEL, and `herald demo
 * --source river` on a database without River's tables. Real Postgres and Redis.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startHerald } from '../../src/app.js';
import { main } from '../../src/cli.js';
import { loadConfig } from '../../src/config/load.js';
import { seedDemo } from '../../src/demo.js';
import { isConfigError } from '../../src/errors.js';
import { riverTablesPresent } from '../../src/river/schema.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { silent } from '../helpers/herald.js';
import { dropPrefix, testPrefix } from '../helpers/redis.js';
import { waitUntil } from '../helpers/wait.js';

describe('HERALD_SOURCE', () => {
  it('defaults to events and accepts river and both', () => {
    expect(loadConfig({}).source).toEqual({ events: true, river: false, riverRetryPolicy: 'river' });
    expect(loadConfig({ HERALD_SOURCE: 'river' }).source).toMatchObject({ events: false, river: true });
    expect(loadConfig({ HERALD_SOURCE: 'events, River' }).source).toMatchObject({ events: true, river: true });
    expect(loadConfig({ HERALD_SOURCE: 'river', ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '1m' }).source.riverRetryPolicy).toBe('herald');
  });

  it('names the setting when it is wrong', () => {
    let caught: unknown;
    try {
      loadConfig({ HERALD_SOURCE: 'kafka' });
    } catch (err) {
      caught = err;
    }
    expect(isConfigError(caught)).toBe(true);
    expect(String((caught as Error).message)).toMatch(/HERALD_SOURCE.*must be events, river or events,river/);
  });
});

describe('River tables', () => {
  let db: TestDatabase;
  const prefix = testPrefix();
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await dropPrefix(prefix);
    await db.drop();
  });

  it('herald migrate never creates them; herald start in River mode refuses without them', async () => {
    const env = { DATABASE_URL: db.url, REDIS_URL, HERALD_QUEUE_PREFIX: prefix, HERALD_SOURCE: 'river', LOG_LEVEL: 'silent' };
    expect(await main(['migrate'], env)).toBe(0);
    expect(await riverTablesPresent(db.pool)).toBe(false);
    await expect(startHerald(loadConfig(env), ['all'], silent)).rejects.toThrow(/River's tables .* are absent/);
  });

  it('herald demo --source river creates them where absent, seeds River jobs, and they are delivered', async () => {
    const outbox = await mkdtemp(path.join(tmpdir(), 'herald-river-demo-'));
    const env = { DATABASE_URL: db.url, REDIS_URL, HERALD_QUEUE_PREFIX: prefix, HERALD_OUTBOX_DIR: outbox, LOG_LEVEL: 'silent' };
    expect(await main(['demo', '--source', 'river', '--seed-only'], env)).toBe(0);
    expect(await riverTablesPresent(db.pool)).toBe(true);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM queue.river_job WHERE state = 'available'`);
    expect(rows[0].n).toBe(5);
    // Seeding again keeps the tables and adds jobs.
    const cfg = await seedDemo(loadConfig(env), silent, { source: 'river' });
    expect(cfg.source).toMatchObject({ events: false, river: true });
    const herald = await startHerald(cfg, ['all'], silent);
    try {
      await waitUntil(
        async () => (await db.pool.query(`SELECT count(*)::int AS n FROM queue.river_job WHERE state = 'completed'`)).rows[0].n === 10,
        {
          what: 'all demo jobs completed',
        },
      );
      const files = await readdir(outbox);
      expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(8);
      expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(2);
    } finally {
      await herald.stop();
    }
  });
});
