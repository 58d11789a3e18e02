/**
 * Latency: a steady 200 requests/s for 30 s into a warmed-up herald, each request its own
 * transaction; request commit (position = clock_timestamp at insert) → mail accepted at
 * the sink, same machine clock. Targets p50 ≤ 25 ms, p99 ≤ 150 ms.
 */
import type { BenchContext } from './lib/context.js';
import { latencies, pacedInserts } from './lib/paced.js';
import { fig, type ScenarioResult } from './lib/report.js';
import { recipient, seedUsers } from './lib/seed.js';
import { makeStack } from './lib/stack.js';
import { latencySummary, sleep } from './lib/stats.js';

export async function runLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const { latencyRate: rate, latencySeconds: seconds } = ctx.opts;
  const instanceId = 'bench-latency';
  const count = Math.round(rate * seconds);
  const stack = await makeStack(ctx);
  const notes: string[] = [];
  const figures = [];
  try {
    await seedUsers(stack.db.pool, instanceId, 'l', 0, count);
    stack.startHerald();
    await stack.warmUp(instanceId);
    const cpu = stack.cpuWindow();
    ctx.log(`latency: ${rate}/s for ${seconds} s`);
    const paced = await pacedInserts(stack.db.pool, { instanceId, tag: 'l', rate, seconds, recipient: (i) => recipient('l', i) });
    const profile = await cpu.end();
    // Give stragglers a bounded while; what is still missing is reported as undelivered.
    const settle = Date.now() + 30_000;
    while ((await stack.sink.count()).count < count && Date.now() < settle) await sleep(50);
    const { values, undelivered } = latencies(paced.insertedAt, await stack.sink.deliveries());
    const s = latencySummary(values);
    ctx.baselines.heraldP99 = s.p99;
    const floor = ctx.baselines.smtpLatency;
    const base = (v: number | undefined): string => (v === undefined ? 'ceilings not run' : `${v.toFixed(1)} ms (raw SMTP)`);
    const suffix = undelivered > 0 ? ` (${undelivered} undelivered)` : '';
    figures.push(
      fig('latency', `p50 commit → accepted, ${rate}/s × ${seconds} s`, `${s.p50.toFixed(1)} ms${suffix}`, {
        baseline: base(floor?.p50),
        ...(floor ? { ratio: s.p50 / floor.p50 } : {}),
        target: '≤ 25 ms',
        met: s.p50 <= 25 && undelivered === 0,
      }),
      fig('latency', `p99 commit → accepted, ${rate}/s × ${seconds} s`, `${s.p99.toFixed(1)} ms${suffix}`, {
        baseline: base(floor?.p99),
        ...(floor ? { ratio: s.p99 / floor.p99 } : {}),
        target: '≤ 150 ms',
        met: s.p99 <= 150 && undelivered === 0,
      }),
    );
    notes.push(
      `${paced.count} requests pushed in ${paced.seconds.toFixed(1)} s (${(paced.count / paced.seconds).toFixed(0)}/s achieved); delivered ${s.n}, undelivered ${undelivered}; max ${s.max.toFixed(0)} ms`,
      ...profile.lines,
    );
  } finally {
    notes.push(...(await stack.close()));
  }
  return { name: 'latency', wallSeconds: 0, figures, notes };
}
