/**
 * The history store on a real Postgres: the writer batches many outcomes into one statement,
 * merges one notification's outcomes, never lets a late non-final outcome undo a final one,
 * bounds the attempt log; retention deletes only old rows; `herald status` / `herald history`
 * print what is there with their exit codes and filters.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from '../../src/cli.js';
import { migrate } from '../../src/eventstore/schema.js';
import { cleanupHistory, type HistoryEntry, makeHistoryWriter, MAX_ATTEMPT_LOG } from '../../src/history/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { REDIS_URL } from '../helpers/env.js';
import { silent } from '../helpers/herald.js';
import { runHerald } from '../helpers/spawn.js';
import { deliveryRow } from './support.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await migrate(db.pool, { logger: silent });
});
afterAll(async () => {
  await db.drop();
});

const T0 = Date.parse('2026-01-01T10:00:00Z');

function entry(id: string, over: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    source: 'events',
    id,
    instanceId: 'inst-1',
    orgId: 'org-1',
    userId: 'user-1',
    messageType: 'InitCode',
    channel: 'email',
    providerKind: 'smtp',
    recipient: 'a***@example.com',
    state: 'sent',
    line: { attempt: 1, startedAt: T0 + 100, finishedAt: T0 + 200, providerKind: 'smtp', resultClass: 'accepted', errorCode: null },
    sends: 1,
    resultClass: 'accepted',
    otp: false,
    requestedAt: T0,
    finishedAt: T0 + 200,
    latencyMs: 200,
    ...over,
  };
}

const retryEntry = (id: string, attempt: number, over: Partial<HistoryEntry> = {}): HistoryEntry =>
  entry(id, {
    state: 'retrying',
    resultClass: 'failed',
    errorCode: 'SMTP_TEMPORARY',
    reason: 'SMTP 451 temporary failure',
    finishedAt: undefined,
    latencyMs: undefined,
    line: {
      attempt,
      startedAt: T0 + attempt * 1000,
      finishedAt: T0 + attempt * 1000 + 50,
      providerKind: 'smtp',
      resultClass: 'failed',
      errorCode: 'SMTP_TEMPORARY',
    },
    ...over,
  });

/** A pool whose statements are counted. */
function counted(pool: pg.Pool): { pool: pg.Pool; count: () => number } {
  let n = 0;
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (...args: Parameters<pg.Pool['query']>) => {
          n += 1;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { pool: proxy, count: () => n };
}

describe('HistoryWriter', () => {
  it('writes many outcomes with one statement and merges one notification’s outcomes', async () => {
    const c = counted(db.pool);
    const writer = makeHistoryWriter({ pool: c.pool, logger: silent, flushMs: 10_000 });
    for (let i = 0; i < 200; i++) writer.record(entry(`batch-${i}`));
    writer.record(retryEntry('merged', 1));
    writer.record(retryEntry('merged', 2));
    writer.record(
      entry('merged', {
        line: { attempt: 3, startedAt: T0 + 3000, finishedAt: T0 + 3100, providerKind: 'smtp', resultClass: 'accepted', errorCode: null },
      }),
    );
    await writer.flush();
    expect(c.count()).toBe(1);
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM herald.deliveries WHERE id LIKE 'batch-%'`);
    expect(rows[0]!.n).toBe(200);
    const merged = await deliveryRow(db.pool, 'merged');
    expect(merged).toMatchObject({ state: 'sent', attempts: 3, result_class: 'accepted', error_code: null, reason: null });
    expect(merged!.attempt_log.map((l) => [l.attempt, l.resultClass])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'accepted'],
    ]);
    await writer.close();
  });

  it('flushes on its own within its tick, and a later non-final outcome never undoes a final one', async () => {
    const writer = makeHistoryWriter({ pool: db.pool, logger: silent, flushMs: 20 });
    writer.record(entry('final-first', { state: 'canceled', resultClass: 'rejected', errorCode: 'SMTP_REJECTED', sends: 1 }));
    await writer.flush();
    // From another process that was slower: its retry outcome arrives after the cancel.
    writer.record(retryEntry('final-first', 1));
    await writer.flush();
    const row = await deliveryRow(db.pool, 'final-first');
    expect(row).toMatchObject({ state: 'canceled', result_class: 'rejected', error_code: 'SMTP_REJECTED', attempts: 2 });
    writer.record(entry('ticked'));
    const { waitUntil } = await import('../helpers/wait.js');
    expect(await waitUntil(() => deliveryRow(db.pool, 'ticked'))).toMatchObject({ state: 'sent' });
    await writer.close();
  });

  it(`keeps the last ${MAX_ATTEMPT_LOG} attempt lines and counts every send`, async () => {
    const writer = makeHistoryWriter({ pool: db.pool, logger: silent, flushMs: 10_000 });
    for (let i = 1; i <= 30; i++) {
      writer.record(retryEntry('long', i));
      if (i % 7 === 0) await writer.flush();
    }
    await writer.close();
    const row = await deliveryRow(db.pool, 'long');
    expect(row!.attempts).toBe(30);
    expect(row!.attempt_log).toHaveLength(MAX_ATTEMPT_LOG);
    expect(row!.attempt_log[0]!.attempt).toBe(30 - MAX_ATTEMPT_LOG + 1);
    expect(row!.attempt_log.at(-1)!.attempt).toBe(30);
  });

  it('inserts pending rows once and leaves a known notification alone', async () => {
    const writer = makeHistoryWriter({ pool: db.pool, logger: silent });
    writer.record(entry('known'));
    await writer.flush();
    await writer.pending([
      { source: 'events', id: 'known', instanceId: 'inst-1', requestedAt: new Date(T0), otp: false },
      { source: 'events', id: 'fresh', instanceId: 'inst-1', requestedAt: new Date(T0), otp: true },
      { source: 'events', id: 'fresh', instanceId: 'inst-1', requestedAt: new Date(T0), otp: true },
    ]);
    expect(await deliveryRow(db.pool, 'known')).toMatchObject({ state: 'sent' });
    expect(await deliveryRow(db.pool, 'fresh')).toMatchObject({ state: 'pending', attempts: 0 });
    await writer.close();
  });

  it('keeps outcomes while Postgres refuses and writes them once it answers', async () => {
    let fail = true;
    const flaky = new Proxy(db.pool, {
      get(target, prop, receiver) {
        if (prop === 'query') {
          return (...args: unknown[]) =>
            fail ? Promise.reject(new Error('connection refused')) : (target.query as (...a: unknown[]) => unknown)(...args);
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const writer = makeHistoryWriter({ pool: flaky, logger: silent, flushMs: 5, retryMs: 20 });
    writer.record(retryEntry('outage', 1));
    await writer.flush();
    writer.record(
      entry('outage', {
        line: { attempt: 2, startedAt: T0 + 5000, finishedAt: T0 + 5100, providerKind: 'smtp', resultClass: 'accepted', errorCode: null },
      }),
    );
    fail = false;
    const { waitUntil } = await import('../helpers/wait.js');
    const row = await waitUntil(async () => {
      const r = await deliveryRow(db.pool, 'outage');
      return r?.state === 'sent' ? r : undefined;
    });
    expect(row).toMatchObject({ attempts: 2 });
    expect(row.attempt_log.map((l) => l.resultClass)).toEqual(['failed', 'accepted']);
    await writer.close();
  });
});

describe('retention', () => {
  it('deletes only rows not changed for longer than the retention, in bounded batches', async () => {
    const writer = makeHistoryWriter({ pool: db.pool, logger: silent });
    for (let i = 0; i < 25; i++) writer.record(entry(`old-${i}`));
    for (let i = 0; i < 5; i++) writer.record(entry(`new-${i}`));
    await writer.close();
    await db.pool.query(`UPDATE herald.deliveries SET updated_at = now() - interval '31 days' WHERE id LIKE 'old-%'`);
    const month = 720 * 3600_000;
    // At most 2 batches of 10 per run: 20 now, the other 5 next run.
    expect(await cleanupHistory(db.pool, month, { batch: 10, maxBatches: 2 })).toBe(20);
    expect(await cleanupHistory(db.pool, month, { batch: 10, maxBatches: 2 })).toBe(5);
    expect(await cleanupHistory(db.pool, month)).toBe(0);
    const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM herald.deliveries WHERE id LIKE 'old-%' OR id LIKE 'new-%' ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);
    expect(await cleanupHistory(db.pool, 0)).toBe(0);
  });
});

describe('herald status / herald history', () => {
  const env = () => ({ DATABASE_URL: db.url, REDIS_URL, LOG_LEVEL: 'silent' });

  /** The CLI in this process: exit code and what it printed. */
  async function cli(args: string[]): Promise<{ code: number; output: string }> {
    let output = '';
    const capture = (chunk: unknown): boolean => {
      output += String(chunk);
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      return { code: await main(args, env()), output };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  beforeAll(async () => {
    const writer = makeHistoryWriter({ pool: db.pool, logger: silent });
    const now = Date.now();
    writer.record(
      entry('cli-sent', {
        instanceId: 'inst-a',
        userId: 'user-a',
        requestedAt: now - 60_000,
        line: { attempt: 1, startedAt: now - 59_000, finishedAt: now - 58_000, providerKind: 'smtp', resultClass: 'accepted', errorCode: null },
      }),
    );
    writer.record(retryEntry('cli-retrying', 1, { instanceId: 'inst-a', userId: 'user-b', requestedAt: now - 30_000 }));
    writer.record(
      entry('cli-canceled', {
        instanceId: 'inst-b',
        userId: 'user-a',
        state: 'canceled',
        resultClass: 'rejected',
        errorCode: 'SMTP_REJECTED',
        reason: 'SMTP 550 rejected',
        requestedAt: now - 10_000,
      }),
    );
    writer.record(entry('cli-old', { instanceId: 'inst-a', userId: 'user-a', requestedAt: now - 3 * 3600_000 }));
    await writer.pending([
      {
        source: 'river',
        id: 'cli-pending',
        instanceId: 'inst-b',
        requestedAt: new Date(now - 5_000),
        otp: true,
        userId: 'user-c',
        messageType: 'VerifySMSOTP',
        channel: 'sms',
      },
    ]);
    await writer.close();
  });

  it('status prints the timeline and exits 0; 1 for an unknown id; 2 for a bad id (as a process too)', async () => {
    const found = await cli(['status', 'cli-retrying']);
    expect(found.code).toBe(0);
    expect(found.output).toContain('notification cli-retrying (events), instance inst-a');
    expect(found.output).toMatch(/attempt 1: email via smtp → failed \(SMTP_TEMPORARY\)/);
    expect(found.output).toContain('retrying: 1 send');
    expect(found.output).toContain('reason: SMTP 451 temporary failure');

    const json = await cli(['status', 'cli-sent', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.output.trim()) as { state: string; timeline: { resultClass: string }[]; recipient: string };
    expect(parsed).toMatchObject({ state: 'sent', recipient: 'a***@example.com' });
    expect(parsed.timeline.map((t) => t.resultClass)).toEqual(['accepted']);

    const missing = await cli(['status', 'no-such-id']);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('no notification no-such-id');
    expect((await cli(['status', 'bad id;'])).code).toBe(2);
    expect((await cli(['status'])).code).toBe(2);

    // The real binary's exit codes.
    expect((await runHerald(['status', 'cli-canceled'], env())).code).toBe(0);
    expect((await runHerald(['status', 'no-such-id'], env())).code).toBe(1);
  }, 60_000);

  it('history lists newest first, filters by instance, user, state and since, and prints JSON lines', async () => {
    const ids = async (args: string[]) => {
      const r = await cli(['history', '--json', ...args]);
      expect(r.code).toBe(0);
      return r.output
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { id: string }).id)
        .filter((id) => id.startsWith('cli-'));
    };
    expect(await ids([])).toEqual(['cli-pending', 'cli-canceled', 'cli-retrying', 'cli-sent', 'cli-old']);
    expect(await ids(['--instance', 'inst-a'])).toEqual(['cli-retrying', 'cli-sent', 'cli-old']);
    expect(await ids(['--user', 'user-a', '--since', '1h'])).toEqual(['cli-canceled', 'cli-sent']);
    expect(await ids(['--state', 'pending'])).toEqual(['cli-pending']);
    expect(await ids(['--state', 'canceled', '--instance', 'inst-b'])).toEqual(['cli-canceled']);
    expect(await ids(['--limit', '2'])).toHaveLength(2);

    const table = await cli(['history', '--instance', 'inst-b']);
    expect(table.code).toBe(0);
    const lines = table.output.trim().split('\n');
    expect(lines[0]).toMatch(/^REQUESTED\s+STATE\s+ATTEMPTS\s+RESULT/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual(['pending', 'canceled']);

    for (const bad of [
      ['--state', 'lost'],
      ['--since', 'yesterday'],
      ['--limit', '0'],
      ['--limit', 'x'],
      ['--instance', 'a b'],
    ]) {
      expect({ bad, code: (await cli(['history', ...bad])).code }).toEqual({ bad, code: 2 });
    }
  });
});
