/**
 * River mode (ZITADEL v2.71+): the throughput and latency scenarios again, with requests
 * inserted as `notification_request` rows the way ZITADEL's user notifier inserts them
 * (River's JobInsertFastMany defaults, then River's insert NOTIFY on `queue.river_insert`)
 * into a herald started with HERALD_SOURCE=river. Same targets as event mode.
 */
import type pg from 'pg';

import { ensureRiverTables } from '../src/river/ddl.js';
import { encryptCode } from '../test/helpers/zitadel.js';
import type { BenchContext } from './lib/context.js';
import { formatCosts } from './lib/costs.js';
import { latencies } from './lib/paced.js';
import { fig, type ScenarioResult } from './lib/report.js';
import { recipient, seedUsers, userOf } from './lib/seed.js';
import { makeStack, type Stack } from './lib/stack.js';
import { latencySummary, sleep } from './lib/stats.js';

const INSERT_MANY = `
INSERT INTO queue.river_job (args, kind, max_attempts, priority, queue, state, metadata, tags)
SELECT a, 'notification_request', 3, 1, 'notification', 'available', '{}', '{}' FROM unnest($1::jsonb[]) AS a`;
const NOTIFY = `SELECT pg_notify('queue.river_insert', '{"queue":"notification"}')`;

function argsOf(instanceId: string, tag: string, i: number): string {
  const u = userOf(instanceId, tag, i);
  return JSON.stringify({
    aggregate: { id: u.userId, type: 'user', resourceOwner: u.orgId, instanceId, version: 'v2' },
    userID: u.userId,
    userResourceOwner: u.orgId,
    triggeredAtOrigin: 'https://auth.example.com',
    eventType: 'user.human.initialization.code.added',
    messageType: 'InitCode',
    notificationType: 0,
    urlTemplate: 'https://auth.example.com/ui/login/user/init?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}',
    codeExpiry: 300_000_000_000,
    code: encryptCode(String(100000 + (i % 900000))),
  });
}

async function insertJobs(pool: pg.Pool, instanceId: string, tag: string, from: number, n: number, perTx: number): Promise<void> {
  for (let s = from; s < from + n; s += perTx) {
    const batch: string[] = [];
    for (let i = s; i < Math.min(from + n, s + perTx); i++) batch.push(argsOf(instanceId, tag, i));
    await pool.query(INSERT_MANY, [batch]);
    await pool.query(NOTIFY);
  }
}

async function completed(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM queue.river_job WHERE state = 'completed'`);
  return rows[0]?.n ?? 0;
}

async function riverStack(ctx: BenchContext, instanceId: string, users: number): Promise<Stack> {
  const stack = await makeStack({ ...ctx, opts: { ...ctx.opts, extraEnv: { ...ctx.opts.extraEnv, HERALD_SOURCE: 'river' } } });
  await ensureRiverTables(stack.db.pool);
  await seedUsers(stack.db.pool, instanceId, 'w', 0, 20);
  await seedUsers(stack.db.pool, instanceId, 'r', 0, users);
  stack.startHerald();
  await insertJobs(stack.db.pool, instanceId, 'w', 0, 20, 1);
  await stack.waitMails(20);
  await stack.sink.reset();
  return stack;
}

export async function runRiver(ctx: BenchContext): Promise<ScenarioResult> {
  const notes: string[] = [];
  const figures = [];
  const { n } = ctx.opts;
  // Throughput: n rows, 1000 per transaction.
  const tInstance = 'bench-river-throughput';
  let stack = await riverStack(ctx, tInstance, n);
  try {
    const cpu = stack.cpuWindow();
    const costs = await stack.costWindow();
    const t0 = Date.now();
    await insertJobs(stack.db.pool, tInstance, 'r', 0, n, 1000);
    await stack.waitMails(n);
    const deadline = Date.now() + ctx.opts.timeoutMs;
    while ((await completed(stack.db.pool)) < n + 20 && Date.now() < deadline) await sleep(50);
    const seconds = (Date.now() - t0) / 1000;
    const perSec = n / seconds;
    const cost = await costs.end(n);
    const ceiling = ctx.baselines.smtpPerSec;
    figures.push(
      fig('river', `River mode msgs/s, ${n} jobs (completed row + sent event + mail)`, perSec.toFixed(0), {
        baseline:
          ctx.baselines.heraldPerSec === undefined
            ? ceiling === undefined
              ? 'ceilings not run'
              : `${ceiling.toFixed(0)} (raw SMTP)`
            : `${ctx.baselines.heraldPerSec.toFixed(0)} (event mode)`,
        ...(ceiling === undefined ? {} : { ratio: perSec / ceiling, met: perSec / ceiling >= 0.7 }),
        target: '≥ 0.70 × raw SMTP',
      }),
      fig('river', 'River mode Postgres CPU ms per message (herald backends)', cost.pgMsPerMsg.toFixed(2)),
      fig('river', 'River mode herald CPU ms per message', cost.heraldMsPerMsg.toFixed(2)),
      fig('river', 'River mode Redis commands per message', cost.redisCmdsPerMsg.toFixed(1)),
    );
    notes.push(`throughput: ${n} jobs done after ${seconds.toFixed(1)} s; ${formatCosts(cost)}`, ...(await cpu.end()).lines);
  } finally {
    notes.push(...(await stack.close()));
  }

  // Latency: a steady rate, each row its own transaction plus River's NOTIFY.
  const { latencyRate: rate, latencySeconds: secs } = ctx.opts;
  const count = Math.round(rate * secs);
  const lInstance = 'bench-river-latency';
  stack = await riverStack(ctx, lInstance, count);
  try {
    const insertedAt = new Map<string, number>();
    const t0 = Date.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const wait = t0 + (i * 1000) / rate - Date.now();
      if (wait > 1) await sleep(wait);
      inflight.push(
        stack.db.pool
          .query<{ at: number }>(
            `WITH j AS (INSERT INTO queue.river_job (args, kind, max_attempts, queue) VALUES ($1::jsonb, 'notification_request', 3, 'notification') RETURNING id),
                  n AS (SELECT pg_notify('queue.river_insert', '{"queue":"notification"}'))
             SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS at FROM j, n`,
            [argsOf(lInstance, 'r', i)],
          )
          .then((r) => void insertedAt.set(recipient('r', i), Number(r.rows[0]?.at))),
      );
    }
    await Promise.all(inflight);
    const settle = Date.now() + 30_000;
    while ((await stack.sink.count()).count < count && Date.now() < settle) await sleep(50);
    const { values, undelivered } = latencies(insertedAt, await stack.sink.deliveries());
    const s = latencySummary(values);
    const suffix = undelivered > 0 ? ` (${undelivered} undelivered)` : '';
    figures.push(
      fig('river', `p50 commit → accepted, River mode, ${rate}/s × ${secs} s`, `${s.p50.toFixed(1)} ms${suffix}`, {
        baseline: 'event mode: latency rows',
        target: '≤ 25 ms',
        met: s.p50 <= 25 && undelivered === 0,
      }),
      fig('river', `p99 commit → accepted, River mode, ${rate}/s × ${secs} s`, `${s.p99.toFixed(1)} ms${suffix}`, {
        baseline: 'event mode: latency rows',
        target: '≤ 150 ms',
        met: s.p99 <= 150 && undelivered === 0,
      }),
    );
    notes.push(`latency: ${count} jobs, delivered ${s.n}, undelivered ${undelivered}; max ${s.max.toFixed(0)} ms`);
  } finally {
    notes.push(...(await stack.close()));
  }
  return { name: 'river', wallSeconds: 0, figures, notes };
}
