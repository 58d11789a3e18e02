/**
 * River's claim and pause statements against River's own schema (migrations 1–6): claim
 * shape, attempted_by trimming, OTP first, fairness between instances, guards, and the
 * periodic pause re-assertion. Real Postgres.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { makePauseKeeper, resumeRiverQueue } from '../../src/river/pause.js';
import { planRetry, riverDefaultDelayMs } from '../../src/river/retry.js';
import { riverMigrationVersion, riverTablesPresent } from '../../src/river/schema.js';
import { claimFairJobs, claimOtpJobs, finishJob } from '../../src/river/sql.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createRiverSchema, insertRiverJob, riverRow } from '../helpers/river.js';
import { waitUntil } from '../helpers/wait.js';

let db: TestDatabase;
const logger = pino({ level: 'silent' });
const args = (instanceId: string, extra: Record<string, unknown> = {}) => ({
  aggregate: { id: 'u1', type: 'user', resourceOwner: 'o1', instanceId, version: 'v2' },
  userID: 'u1',
  userResourceOwner: 'o1',
  triggeredAtOrigin: '',
  eventType: 'user.human.email.code.added',
  messageType: 'VerifyEmail',
  notificationType: 0,
  ...extra,
});

beforeAll(async () => {
  db = await createTestDatabase();
  expect(await riverTablesPresent(db.pool)).toBe(false);
  await createRiverSchema(db.pool);
});
beforeEach(async () => {
  await db.pool.query('DELETE FROM queue.river_job');
});
afterAll(async () => {
  await db.drop();
});

describe('River claim', () => {
  it('sees River migration line main at version 6', async () => {
    expect(await riverTablesPresent(db.pool)).toBe(true);
    expect(await riverMigrationVersion(db.pool)).toBe(6);
  });

  it("claims as River's JobGetAvailable does and keeps the last 100 attempted_by entries", async () => {
    const id = await insertRiverJob(db.pool, args('i1'));
    const old = Array.from({ length: 100 }, (_, i) => `old-${i}`);
    await db.pool.query('UPDATE queue.river_job SET attempted_by = $2 WHERE id = $1', [id, old]);
    const [job] = await claimFairJobs(db.pool, 'herald@x', 10, 40);
    expect(job).toMatchObject({ id, attempt: 1, maxAttempts: 3, state: 'running', instanceId: 'i1', errorCount: 0 });
    const row = await riverRow(db.pool, id);
    expect(row.state).toBe('running');
    expect(row.attempted_at).toBeInstanceOf(Date);
    expect(row.attempted_by).toHaveLength(100);
    expect(row.attempted_by?.[0]).toBe('old-1');
    expect(row.attempted_by?.at(-1)).toBe('herald@x');
    expect(await claimFairJobs(db.pool, 'herald@x', 10, 40)).toEqual([]);
  });

  it('never claims other kinds, other queues, future rows or rows that are not available', async () => {
    await insertRiverJob(db.pool, args('i1'), { kind: 'other' });
    await insertRiverJob(db.pool, args('i1'), { queue: 'default' });
    const future = await insertRiverJob(db.pool, args('i1'));
    await db.pool.query(`UPDATE queue.river_job SET scheduled_at = now() + interval '1 hour' WHERE id = $1`, [future]);
    const retryable = await insertRiverJob(db.pool, args('i1'));
    await db.pool.query(`UPDATE queue.river_job SET state = 'retryable' WHERE id = $1`, [retryable]);
    expect(await claimOtpJobs(db.pool, 'c', 10)).toEqual([]);
    expect(await claimFairJobs(db.pool, 'c', 10, 40)).toEqual([]);
  });

  it('claims OTP rows first and each instance’s first row before a busy instance’s backlog', async () => {
    for (let i = 0; i < 20; i++) await insertRiverJob(db.pool, args('busy'));
    const quiet = await insertRiverJob(db.pool, args('quiet'));
    const otp = await insertRiverJob(db.pool, args('busy', { isOTP: true, messageType: 'VerifyEmailOTP' }));
    const session = await insertRiverJob(db.pool, args('s', { messageType: 'VerifySMSOTP', notificationType: 1 }));
    const otps = await claimOtpJobs(db.pool, 'c', 5);
    expect(otps.map((j) => j.id)).toEqual([otp, session]);
    const rest = await claimFairJobs(db.pool, 'c', 3, 100);
    expect(rest.map((j) => j.id)).toContain(quiet);
    expect(rest.filter((j) => j.instanceId === 'busy')).toHaveLength(2);
  });

  it('two claimers never take the same row', async () => {
    for (let i = 0; i < 50; i++) await insertRiverJob(db.pool, args(`i${i % 4}`));
    const [a, b] = await Promise.all([claimFairJobs(db.pool, 'a', 30, 120), claimFairJobs(db.pool, 'b', 30, 120)]);
    const ids = [...a!, ...b!].map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(50);
  });

  it('finishes only a running row of that attempt; an admin cancel turns a retry into cancelled', async () => {
    const id = await insertRiverJob(db.pool, args('i1'));
    const [job] = await claimFairJobs(db.pool, 'c', 1, 4);
    expect(await finishJob(db.pool, { id, attempt: 2, state: 'completed' })).toBeUndefined();
    await db.pool.query(`UPDATE queue.river_job SET metadata = '{"cancel_attempted_at":"2026-01-01T00:00:00Z"}' WHERE id = $1`, [id]);
    const err = { at: '2026-01-01T00:00:00.000000000Z', attempt: 1, error: 'boom', trace: '' };
    expect(await finishJob(db.pool, { id, attempt: job!.attempt, state: 'retryable', error: err, scheduledAt: new Date(Date.now() + 60_000) })).toBe(
      'cancelled',
    );
    const row = await riverRow(db.pool, id);
    expect(row).toMatchObject({ state: 'cancelled', errors: [err] });
    expect(row.finalized_at).toBeInstanceOf(Date);
    // Someone else's finish is left alone.
    expect(await finishJob(db.pool, { id, attempt: 1, state: 'completed' })).toBeUndefined();
    expect((await riverRow(db.pool, id)).state).toBe('cancelled');
  });
});

describe('River retry policy', () => {
  it("uses River's (len(errors)+1)^4 s with ±10 % jitter and River's 5 s available/retryable split", () => {
    expect(riverDefaultDelayMs(0, () => 0)).toBeCloseTo(900);
    expect(riverDefaultDelayMs(0, () => 1)).toBeCloseTo(1100);
    expect(riverDefaultDelayMs(1, () => 0.5)).toBeCloseTo(16_000);
    expect(riverDefaultDelayMs(2, () => 0.5)).toBeCloseTo(81_000);
    const now = 1_000_000;
    expect(planRetry({ attempt: 1, maxAttempts: 3, errorCount: 0 }, { kind: 'river' }, now).state).toBe('available');
    const second = planRetry({ attempt: 2, maxAttempts: 3, errorCount: 1 }, { kind: 'river' }, now);
    expect(second.state).toBe('retryable');
    expect(second.scheduledAt!.getTime() - now).toBeGreaterThanOrEqual(14_400);
    expect(planRetry({ attempt: 3, maxAttempts: 3, errorCount: 2 }, { kind: 'river' }, now)).toEqual({ state: 'discarded' });
  });
});

describe('River pause', () => {
  it('re-asserts the pause after an operator resumes the queue', async () => {
    const keeper = makePauseKeeper(db.pool, logger, 50);
    await keeper.start();
    try {
      await resumeRiverQueue(db.pool);
      const { rows } = await db.pool.query(`SELECT paused_at FROM queue.river_queue WHERE name = 'notification'`);
      expect(rows[0]?.paused_at).toBeNull();
      await waitUntil(async () => {
        const r = await db.pool.query(`SELECT paused_at FROM queue.river_queue WHERE name = 'notification'`);
        return r.rows[0]?.paused_at instanceof Date;
      });
    } finally {
      keeper.stop();
    }
  });
});
