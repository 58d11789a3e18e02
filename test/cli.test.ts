/** The CLI contract of interface.md: commands and exit codes (0 ok, 1 failure, 2 config/usage). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { REDIS_URL } from './helpers/env.js';
import { dropPrefix, testPrefix } from './helpers/redis.js';
import { runHerald } from './helpers/spawn.js';

const BIN = fileURLToPath(new URL('../bin/herald.js', import.meta.url));
let db: TestDatabase;
const prefix = testPrefix();

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await dropPrefix(prefix);
  await db.drop();
});

const env = () => ({ DATABASE_URL: db.url, REDIS_URL, HERALD_QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent' });

describe('herald CLI', () => {
  it('the built bin answers --help with exit 0 and lists the commands', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, '--help']);
    for (const cmd of ['migrate', 'start', 'reconcile', 'demo']) expect(stdout).toContain(cmd);
  });

  it('migrate creates eventstore.events2 and herald schema, and can run again', async () => {
    expect((await runHerald(['migrate'], env())).code).toBe(0);
    expect((await runHerald(['migrate'], env())).code).toBe(0);
    const { rows } = await db.pool.query<{ t: string | null; h: string | null }>(
      `SELECT to_regclass('eventstore.events2')::text AS t, to_regclass('herald.checkpoints')::text AS h`,
    );
    expect(rows[0]).toEqual({ t: 'eventstore.events2', h: 'herald.checkpoints' });
  });

  it('exits 2 with one line naming the setting on bad configuration', async () => {
    const { code, output } = await runHerald(['migrate'], { ...env(), ZITADEL_NOTIFICATIONS_MAXTTL: '-5s' });
    expect(code).toBe(2);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain('ZITADEL_NOTIFICATIONS_MAXTTL');
    expect(output).toContain('-5s');
  });

  it('exits 2 on an unknown command or role', async () => {
    expect((await runHerald(['frobnicate'], env())).code).toBe(2);
    expect((await runHerald(['start', '--role', 'nope'], env())).code).toBe(2);
  });

  it('exits 1 when Postgres cannot be reached', async () => {
    const { code, output } = await runHerald(['migrate'], { ...env(), DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(code).toBe(1);
    expect(output).toMatch(/ECONNREFUSED|connect/);
  });

  it('reconcile runs against an empty eventstore and exits 0', async () => {
    const { code } = await runHerald(['reconcile'], env());
    expect(code).toBe(0);
  });
});
