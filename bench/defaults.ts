/**
 * "Defaults, fresh database, no trigger": what a new user sees. herald runs with none of
 * WORKERS/BULKLIMIT/REQUEUEEVERY set, the database has no notify trigger and no ANALYZE, and
 * requests are written as ZITADEL 2.67's push function writes them (200 per transaction,
 * one shared position). Rows: throughput of 2 000 requests (1 producer + 2 workers) against
 * the raw SMTP ceiling, the per-message costs (Postgres CPU, herald CPU, Redis commands), and
 * the latency of 100 requests/s for 20 s, each its own transaction.
 */
import type { BenchContext } from './lib/context.js';
import { formatCosts } from './lib/costs.js';
import { latencies, pacedInserts } from './lib/paced.js';
import { fig, type Figure, type ScenarioResult } from './lib/report.js';
import { recipient, seedRequests, seedUsers } from './lib/seed.js';
import { makeStack } from './lib/stack.js';
import { latencySummary, sleep } from './lib/stats.js';

const N = 2000;
const PER_TX = 200;
const RATE = 100;
const SECONDS = 20;

export async function runDefaults(ctx: BenchContext): Promise<ScenarioResult> {
  const instanceId = 'bench-defaults';
  const stack = await makeStack(ctx, { defaults: true, notifyTrigger: false });
  const notes: string[] = [];
  const figures: Figure[] = [];
  try {
    await seedUsers(stack.db.pool, instanceId, 'd', 0, N);
    await seedUsers(stack.db.pool, instanceId, 'p', 0, RATE * SECONDS);
    stack.startHerald();
    await stack.warmUp(instanceId);

    const cpu = stack.cpuWindow();
    const costs = await stack.costWindow();
    const t0 = Date.now();
    await seedRequests(stack.db.pool, instanceId, 'd', 0, N, PER_TX, true);
    await stack.waitMails(N);
    const tDone = await stack.waitSent(N + 20, instanceId);
    const cost = await costs.end(N);
    const profile = await cpu.end();
    const perSec = N / ((tDone - t0) / 1000);
    ctx.baselines.defaultsPerSec = perSec;
    const ceiling = ctx.baselines.smtpPerSec;
    figures.push(
      fig('defaults', `herald msgs/s, ${N} requests (${PER_TX}/tx, shared position), defaults, no trigger`, perSec.toFixed(0), {
        baseline: ceiling === undefined ? 'ceilings not run' : `${ceiling.toFixed(0)} (raw SMTP)`,
        ...(ceiling === undefined ? {} : { ratio: perSec / ceiling, met: perSec / ceiling >= 0.5 }),
        target: '≥ 0.50 × raw SMTP',
      }),
      fig('defaults', 'Postgres CPU ms per message (herald backends)', cost.pgMsPerMsg.toFixed(2)),
      fig('defaults', 'herald CPU ms per message (producer + workers)', cost.heraldMsPerMsg.toFixed(2)),
      fig('defaults', 'Redis commands per message (server-wide delta)', cost.redisCmdsPerMsg.toFixed(1)),
    );
    notes.push(`throughput: ${formatCosts(cost)}`, ...profile.lines);

    await stack.sink.reset();
    ctx.log(`defaults: ${RATE}/s for ${SECONDS} s, no trigger`);
    const paced = await pacedInserts(stack.db.pool, { instanceId, tag: 'p', rate: RATE, seconds: SECONDS, recipient: (i) => recipient('p', i) });
    const settle = Date.now() + 30_000;
    while ((await stack.sink.count()).count < paced.count && Date.now() < settle) await sleep(50);
    const { values, undelivered } = latencies(paced.insertedAt, await stack.sink.deliveries());
    const s = latencySummary(values);
    const suffix = undelivered > 0 ? ` (${undelivered} undelivered)` : '';
    figures.push(
      fig('defaults', `p50 commit → accepted, ${RATE}/s × ${SECONDS} s, no trigger`, `${s.p50.toFixed(1)} ms${suffix}`, {
        target: '≤ 100 ms',
        met: s.p50 <= 100 && undelivered === 0,
      }),
      fig('defaults', `p99 commit → accepted, ${RATE}/s × ${SECONDS} s, no trigger`, `${s.p99.toFixed(1)} ms${suffix}`, {
        target: '≤ 300 ms',
        met: s.p99 <= 300 && undelivered === 0,
      }),
    );
    notes.push(`latency: ${paced.count} pushed in ${paced.seconds.toFixed(1)} s; delivered ${s.n}, max ${s.max.toFixed(0)} ms`);
  } finally {
    notes.push(...(await stack.close()));
  }
  return { name: 'defaults', wallSeconds: 0, figures, notes };
}
