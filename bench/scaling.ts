/**
 * Scaling curve: the same burst (requests written 200 per transaction, as ZITADEL 2.67's push
 * writes them) into 1 producer + 1, 2 and 4 worker processes with the tuned settings. On a
 * 2-core machine the curve flattens where the machine's CPU runs out (the profile per step
 * says which part took it); before that, a flat step means something inside one process
 * (its SMTP connection pool, its concurrency) is the limit.
 */
import type { BenchContext } from './lib/context.js';
import { formatCosts } from './lib/costs.js';
import { fig, type Figure, type ScenarioResult } from './lib/report.js';
import { seedRequests, seedUsers } from './lib/seed.js';
import { makeStack } from './lib/stack.js';

const STEPS = [1, 2, 4] as const;

export async function runScaling(ctx: BenchContext): Promise<ScenarioResult> {
  const n = Math.min(ctx.opts.n, 5000);
  const notes: string[] = [];
  const figures: Figure[] = [];
  const ceiling = ctx.baselines.smtpPerSec;
  for (const procs of STEPS) {
    const instanceId = `bench-scaling-${procs}`;
    const stack = await makeStack(ctx, { workerProcs: procs });
    try {
      await seedUsers(stack.db.pool, instanceId, 's', 0, n);
      stack.startHerald();
      await stack.warmUp(instanceId);
      const cpu = stack.cpuWindow();
      const costs = await stack.costWindow();
      const t0 = Date.now();
      await seedRequests(stack.db.pool, instanceId, 's', 0, n, 200, true);
      await stack.waitMails(n);
      const tDone = await stack.waitSent(n + 20, instanceId);
      const cost = await costs.end(n);
      const profile = await cpu.end();
      const perSec = n / ((tDone - t0) / 1000);
      figures.push(
        fig('scaling', `herald msgs/s, ${n} requests, 1 producer + ${procs} worker process${procs > 1 ? 'es' : ''}`, perSec.toFixed(0), {
          ...(ceiling === undefined ? {} : { baseline: `${ceiling.toFixed(0)} (raw SMTP)`, ratio: perSec / ceiling }),
        }),
      );
      notes.push(`${procs} worker process(es): ${formatCosts(cost)}`, `  ${profile.lines[0] ?? ''}`);
    } finally {
      notes.push(...(await stack.close()));
    }
  }
  return { name: 'scaling', wallSeconds: 0, figures, notes };
}
