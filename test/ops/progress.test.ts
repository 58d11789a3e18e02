/**
 * Long commands show progress: on a terminal one line rewritten in place, otherwise one
 * summary line. `herald reconcile` and `herald demo --seed-only` run as real processes
 * (stderr is a pipe, not a TTY) against real Postgres and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeProgress } from '../../src/ops/progress.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { dropPrefix, testPrefix } from '../helpers/redis.js';
import { runHerald } from '../helpers/spawn.js';
import { newId, requestNotification, seedUser } from '../helpers/zitadel.js';

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { stream: { isTTY, write: (s: string) => written.push(s) }, written };
}

describe('makeProgress', () => {
  it('on a terminal rewrites one line, at most every everyMs, and ends it with the summary', () => {
    let t = 0;
    const { stream, written } = sink(true);
    const p = makeProgress(stream, { everyMs: 100, now: () => t });
    p.update('1 page');
    t = 50;
    p.update('2 pages');
    t = 150;
    p.update('3 pages\u001b[31m');
    p.done('done: 3 pages');
    expect(written).toEqual(['\r\u001b[2K1 page', '\r\u001b[2K3 pages [31m', '\r\u001b[2Kdone: 3 pages\n']);
  });

  it('elsewhere prints only the summary line', () => {
    const { stream, written } = sink(false);
    const p = makeProgress(stream);
    p.update('1 page');
    p.done('done');
    expect(written).toEqual(['done\n']);
  });
});

describe('long commands, not on a terminal', () => {
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

  it('herald reconcile prints one summary line', async () => {
    expect((await runHerald(['migrate'], env())).code).toBe(0);
    const user = await seedUser(db.pool, { instanceId: newId() });
    for (let i = 0; i < 3; i++) await requestNotification(db.pool, user, {}, { code: `PRG00${i}` });
    const { code, output } = await runHerald(['reconcile'], env());
    expect(code, output).toBe(0);
    expect(output).not.toContain('\r');
    expect(output.trim().split('\n')).toEqual([expect.stringMatching(/^herald reconcile: 3 pending notifications offered in \d+(\.\d)? m?s$/)]);
  });

  it('herald demo --seed-only prints one summary line', async () => {
    const { code, output } = await runHerald(['demo', '--seed-only'], env());
    expect(code, output).toBe(0);
    expect(output.trim().split('\n')).toEqual([expect.stringMatching(/^herald demo: \d+ notification requests seeded$/)]);
  });
});
