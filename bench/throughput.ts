/**
 * Throughput: N requests written as ZITADEL would (1000 per transaction) into a running,
 * warmed-up herald (1 producer, 2 workers); time from the first insert until every request
 * has its notification.sent row and its mail accepted. Target: ≥ 70 % of the raw SMTP
 * ceiling of the same run.
 */
import type { BenchContext } from './lib/context.js';
import { formatCosts } from './lib/costs.js';
import { countEvents } from './lib/db.js';
import { fig, type ScenarioResult } from './lib/report.js';
import { seedRequests, seedUsers } from './lib/seed.js';
import { makeStack } from './lib/stack.js';

export async function runThroughput(ctx: BenchContext): Promise<ScenarioResult> {
  const { n } = ctx.opts;
  const instanceId = 'bench-throughput';
  const stack = await makeStack(ctx);
  const notes: string[] = [];
  const figures = [];
  try {
    ctx.log(`throughput: seeding ${n} users`);
    await seedUsers(stack.db.pool, instanceId, 't', 0, n);
    stack.startHerald();
    await stack.warmUp(instanceId);
    const cpu = stack.cpuWindow();
    const costs = await stack.costWindow();
    const t0 = Date.now();
    ctx.log(`throughput: inserting ${n} requests`);
    await seedRequests(stack.db.pool, instanceId, 't', 0, n, 1000);
    const inserted = Date.now();
    let lastLog = 0;
    await stack.waitMails(n, (c) => {
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        ctx.log(`throughput: ${c}/${n} mails`);
      }
    });
    const tDone = await stack.waitSent(n + 20, instanceId);
    const cost = await costs.end(n);
    const profile = await cpu.end();
    const deliveries = await stack.sink.deliveries();
    const lastMail = deliveries.at(-1)?.at ?? tDone;
    const seconds = (tDone - t0) / 1000;
    const perSec = n / seconds;
    ctx.baselines.heraldPerSec = perSec;
    const ceiling = ctx.baselines.smtpPerSec;
    figures.push(
      fig('throughput', `herald msgs/s, ${n} requests (sent row + mail)`, perSec.toFixed(0), {
        baseline: ceiling === undefined ? 'ceilings not run' : `${ceiling.toFixed(0)} (raw SMTP)`,
        ...(ceiling === undefined ? {} : { ratio: perSec / ceiling, met: perSec / ceiling >= 0.7 }),
        target: '≥ 0.70 × raw SMTP',
      }),
      fig('throughput', 'Postgres CPU ms per message (herald backends)', cost.pgMsPerMsg.toFixed(2)),
      fig('throughput', 'herald CPU ms per message (producer + workers)', cost.heraldMsPerMsg.toFixed(2)),
      fig('throughput', 'Redis commands per message (server-wide delta)', cost.redisCmdsPerMsg.toFixed(1)),
    );
    const defaults = ctx.baselines.defaultsPerSec;
    if (defaults !== undefined) {
      figures.push(
        fig('throughput', 'defaults row / tuned row (msgs/s)', (defaults / perSec).toFixed(2), {
          baseline: `${defaults.toFixed(0)} / ${perSec.toFixed(0)}`,
          ratio: defaults / perSec,
          target: '≥ 0.70 (within 30 %)',
          met: defaults / perSec >= 0.7,
        }),
      );
    }
    const canceled = await countEvents(stack.db.pool, 'notification.canceled', instanceId);
    const { bytes, count } = await stack.sink.count();
    notes.push(
      `${n} requests inserted in ${((inserted - t0) / 1000).toFixed(1)} s; last mail after ${((lastMail - t0) / 1000).toFixed(1)} s, all sent rows after ${seconds.toFixed(1)} s; ${canceled} canceled; mails of ${(bytes / Math.max(1, count)).toFixed(0)} B`,
      formatCosts(cost),
      ...profile.lines,
    );
  } finally {
    notes.push(...(await stack.close()));
  }
  return { name: 'throughput', wallSeconds: 0, figures, notes };
}
