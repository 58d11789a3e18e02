/**
 * Fairness: instance A has 100 000 pending requests when herald starts; once A's mails
 * flow, instance B pushes 20 requests/s for 30 s. B's delivery latency (commit → accepted)
 * must stay under 500 ms at p99 (issue #14) — B must not queue behind A's backlog.
 */
import type { BenchContext } from './lib/context.js';
import { countEvents } from './lib/db.js';
import { latencies, pacedInserts } from './lib/paced.js';
import { fig, type ScenarioResult } from './lib/report.js';
import { analyze, recipient, seedRequests, seedUsers } from './lib/seed.js';
import { makeStack } from './lib/stack.js';
import { latencySummary, sleep } from './lib/stats.js';

/** How long B's last requests may take before they count as undelivered. */
const B_SETTLE_MS = 60_000;

export async function runFairness(ctx: BenchContext): Promise<ScenarioResult> {
  const { fairnessA: nA, fairnessRate: rate, fairnessSeconds: seconds } = ctx.opts;
  const a = 'bench-a';
  const b = 'bench-b';
  const nB = Math.round(rate * seconds);
  const stack = await makeStack(ctx);
  const notes: string[] = [];
  const figures = [];
  try {
    ctx.log(`fairness: seeding A (${nA} pending) and B's users`);
    await seedUsers(stack.db.pool, a, 'a', 0, nA);
    await seedRequests(stack.db.pool, a, 'a', 0, nA);
    await seedUsers(stack.db.pool, b, 'b', 0, nB);
    if (ctx.opts.analyze) await analyze(stack.db.pool);
    stack.startHerald();
    await stack.waitMails(200);
    const cpu = stack.cpuWindow();
    const aBefore = (await stack.sink.count()).count;
    ctx.log(`fairness: A is draining; B at ${rate}/s for ${seconds} s`);
    const paced = await pacedInserts(stack.db.pool, { instanceId: b, tag: 'b', rate, seconds, recipient: (i) => recipient('b', i) });
    const aDuring = (await stack.sink.count()).count - aBefore;
    const profile = await cpu.end();
    const settle = Date.now() + B_SETTLE_MS;
    while ((await countEvents(stack.db.pool, 'notification.sent', b)) < nB && Date.now() < settle) await sleep(100);
    const { values, undelivered } = latencies(paced.insertedAt, await stack.sink.deliveries());
    const s = latencySummary(values);
    const suffix = undelivered > 0 ? ` (${undelivered}/${nB} undelivered after ${B_SETTLE_MS / 1000} s)` : '';
    const base = ctx.baselines.heraldP99;
    figures.push(
      fig('fairness', `B p50 with A backlog ${nA}`, `${s.p50.toFixed(1)} ms${suffix}`, {}),
      fig('fairness', `B p99 with A backlog ${nA}`, `${s.p99.toFixed(1)} ms${suffix}`, {
        baseline: base === undefined ? 'latency not run' : `${base.toFixed(1)} ms (p99, no backlog)`,
        ...(base === undefined ? {} : { ratio: s.p99 / base }),
        target: '< 500 ms',
        met: s.p99 < 500 && undelivered === 0,
      }),
    );
    const aSent = await countEvents(stack.db.pool, 'notification.sent', a);
    notes.push(
      `B: ${paced.count} requests in ${paced.seconds.toFixed(1)} s, delivered ${s.n}, max ${s.max.toFixed(0)} ms; A: ${aDuring} mails during B's window (${((aDuring - s.n) / paced.seconds).toFixed(0)}/s excl. B), ${aSent}/${nA} sent when measured`,
      ...profile.lines,
    );
  } finally {
    notes.push(...(await stack.close()));
  }
  return { name: 'fairness', wallSeconds: 0, figures, notes };
}
