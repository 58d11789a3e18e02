/**
 * Backlog: 200 000 pending requests written before herald starts. Reports the peak of
 * Redis used_memory (INFO memory every 250 ms; server-wide, so the value before herald
 * started is the baseline), the peak of live jobs under the scenario's prefix, and whether
 * per-job cost stays flat: mail rate of the last 10 % within 20 % of the first 10 %.
 */
import type { BenchContext } from './lib/context.js';
import { countEvents } from './lib/db.js';
import { assertAlive } from './lib/herald.js';
import { sampleRedis } from './lib/redis.js';
import { fig, type ScenarioResult } from './lib/report.js';
import { analyze, seedRequests, seedUsers } from './lib/seed.js';
import { makeStack } from './lib/stack.js';
import { edgeRates, mb, sleep } from './lib/stats.js';

export async function runBacklog(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.opts.backlog;
  const instanceId = 'bench-backlog';
  const stack = await makeStack(ctx);
  const notes: string[] = [];
  const figures = [];
  try {
    ctx.log(`backlog: seeding ${n} users and ${n} requests`);
    const s0 = Date.now();
    await seedUsers(stack.db.pool, instanceId, 'k', 0, n);
    await seedRequests(stack.db.pool, instanceId, 'k', 0, n);
    if (ctx.opts.analyze) await analyze(stack.db.pool);
    notes.push(`seeded ${n} users + ${n} requests in ${((Date.now() - s0) / 1000).toFixed(1)} s`);
    const sampler = await sampleRedis(stack.prefix);
    const t0 = Date.now();
    stack.startHerald();
    const cpu = stack.cpuWindow();
    // Capped so a slow herald cannot hold the whole run; a capped run is reported as partial.
    const cap = t0 + ctx.opts.backlogMaxSeconds * 1000;
    let lastLog = 0;
    let delivered = 0;
    while (delivered < n && Date.now() < cap) {
      assertAlive(stack.procs);
      delivered = (await stack.sink.count()).count;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        ctx.log(`backlog: ${delivered}/${n} mails`);
      }
      await sleep(50);
    }
    const drained = delivered >= n;
    const tDone = drained ? await stack.waitSent(n, instanceId) : Date.now();
    const sentRows = await countEvents(stack.db.pool, 'notification.sent', instanceId);
    const profile = await cpu.end();
    const mem = await sampler.stop();
    const times = (await stack.sink.deliveries()).map((d) => d.at).sort((a, b) => a - b);
    const { first, last } = edgeRates(times);
    const overall = sentRows / ((tDone - t0) / 1000);
    const partial = drained ? '' : ` (partial: ${times.length}/${n} in ${ctx.opts.backlogMaxSeconds} s cap)`;
    const delta = mem.peakUsed - mem.startUsed;
    figures.push(
      fig('backlog', `peak Redis used_memory, ${n} pending`, mb(mem.peakUsed), {
        baseline: `${mb(mem.startUsed)} (before start)`,
        ratio: mem.peakUsed / Math.max(1, mem.startUsed),
        target: 'bounded (Δ ≤ 64 MB)',
        met: delta <= 64 * 1024 * 1024,
      }),
      fig('backlog', 'peak live jobs in Redis (wait+prioritized+active+delayed)', String(mem.peakLiveJobs), {
        baseline: `${n} pending`,
        ratio: mem.peakLiveJobs / n,
        target: '≤ 5 % of backlog (a window)',
        met: mem.peakLiveJobs <= n * 0.05,
      }),
      fig('backlog', `mail rate last 10 % / first 10 %${partial}`, `${last.toFixed(0)} / ${first.toFixed(0)} per s`, {
        baseline: `${first.toFixed(0)}/s (first 10 %)`,
        ratio: last / first,
        target: 'ratio ≥ 0.80',
        met: drained && last / first >= 0.8,
      }),
      fig('backlog', `drain rate (process start → sent rows)${partial}`, `${overall.toFixed(0)}/s`, {
        ...(ctx.baselines.heraldPerSec === undefined
          ? {}
          : { baseline: `${ctx.baselines.heraldPerSec.toFixed(0)}/s (throughput)`, ratio: overall / ctx.baselines.heraldPerSec }),
      }),
    );
    const canceled = await countEvents(stack.db.pool, 'notification.canceled', instanceId);
    notes.push(
      `${drained ? 'drained' : `NOT drained: ${sentRows}/${n} sent`} after ${((tDone - t0) / 1000).toFixed(1)} s from process start (first mail after ${(((times[0] ?? t0) - t0) / 1000).toFixed(1)} s); ${canceled} canceled; Redis Δ used_memory ${mb(delta)}; peak jobs incl. completed/failed ${mem.peakAllJobs}`,
      ...profile.lines,
    );
  } finally {
    notes.push(...(await stack.close()));
  }
  return { name: 'backlog', wallSeconds: 0, figures, notes };
}
