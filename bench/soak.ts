/**
 * Soak (`npm run bench -- --only soak`, not in the default set: it runs 10+ minutes): does
 * Redis stay flat under steady load once finished jobs reach their retention bound?
 *
 * Runs against a private redis-server (used_memory is server-wide; the shared Redis carries
 * other runs' keys), with the usual fleet (1 producer, 2 workers):
 * 1. jobs in flight: 3 instances × 1 000 pending requests, producer only → 3 000 jobs
 *    waiting in Redis; Δ used_memory / 3 is the cost of 1 000 jobs in flight;
 * 2. steady load: workers start, then one request per transaction at `--soak-rate` for
 *    `--soak-seconds`; INFO memory, job counts, event-stream lengths and DBSIZE every second.
 * herald runs with HERALD_KEEP_JOBS=`--soak-keep` (1 000 by default, so that the retention
 * bound is reached within the first minutes; the production default is 10 000: multiply the
 * per-job figure). Flat: once the completed set holds that many jobs, the mean used_memory of
 * the last fifth of the run is within 5 % (or 1 MB) of the mean of the first fifth after that.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import { QUEUE } from '../src/queue/names.js';
import { EVENTS_MAX_LEN } from '../src/queue/queues.js';
import { startPrivateRedis } from '../test/faults/helpers/redis-server.js';
import type { BenchContext } from './lib/context.js';
import { countEvents } from './lib/db.js';
import { assertAlive } from './lib/herald.js';
import { pacedInserts } from './lib/paced.js';
import { usedMemory } from './lib/redis.js';
import { fig, type ScenarioResult } from './lib/report.js';
import { recipient, seedRequests, seedUsers } from './lib/seed.js';
import { makeStack } from './lib/stack.js';
import { mb, sleep } from './lib/stats.js';

interface Sample {
  readonly t: number;
  readonly used: number;
  readonly live: number;
  readonly completed: number;
  readonly failed: number;
  readonly streams: number;
  readonly keys: number;
}

const IN_FLIGHT_INSTANCES = 3;
const WINDOW = 1000;

async function sampleOnce(redis: Redis, queues: readonly Queue[], prefix: string): Promise<Sample> {
  const counts = await Promise.all(queues.map((q) => q.getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed')));
  const sum = (state: string): number => counts.reduce((a, c) => a + (c[state] ?? 0), 0);
  const streams = await Promise.all(queues.map((q) => redis.xlen(`${prefix}:${q.name}:events`)));
  return {
    t: Date.now(),
    used: await usedMemory(redis),
    live: sum('active') + sum('waiting') + sum('prioritized') + sum('delayed'),
    completed: sum('completed'),
    failed: sum('failed'),
    streams: Math.max(...streams),
    keys: await redis.dbsize(),
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function runSoak(ctx: BenchContext): Promise<ScenarioResult> {
  const { soakRate: rate, soakSeconds: seconds } = ctx.opts;
  const notes: string[] = [];
  const figures = [];
  const redis = await startPrivateRedis();
  const admin = redis.client();
  const keep = ctx.opts.soakKeep;
  const stack = await makeStack(
    { ...ctx, opts: { ...ctx.opts, extraEnv: { HERALD_KEEP_JOBS: String(keep), ...ctx.opts.extraEnv } } },
    { redisUrl: redis.url },
  );
  const queues = [QUEUE.requests, QUEUE.retries].map((name) => new Queue(name, { connection: admin, prefix: stack.prefix }));
  try {
    // 1. Jobs in flight: windows full, nothing consumed yet.
    for (let k = 0; k < IN_FLIGHT_INSTANCES; k++) {
      await seedUsers(stack.db.pool, `bench-soak-f${k}`, `f${k}-`, 0, WINDOW);
      await seedRequests(stack.db.pool, `bench-soak-f${k}`, `f${k}-`, 0, WINDOW);
    }
    const count = Math.round(rate * seconds);
    await seedUsers(stack.db.pool, 'bench-soak', 's', 0, count);
    await sleep(1000);
    const empty = await usedMemory(admin);
    stack.startHerald('producer');
    const target = IN_FLIGHT_INSTANCES * WINDOW;
    const deadline = Date.now() + ctx.opts.timeoutMs;
    let inFlight = await sampleOnce(admin, queues, stack.prefix);
    while (inFlight.live < target) {
      assertAlive(stack.procs);
      if (Date.now() > deadline) throw new Error(`only ${inFlight.live}/${target} jobs in Redis`);
      await sleep(200);
      inFlight = await sampleOnce(admin, queues, stack.prefix);
    }
    await sleep(1000);
    inFlight = await sampleOnce(admin, queues, stack.prefix);
    const perThousandLive = (inFlight.used - empty) / (inFlight.live / 1000);
    ctx.log(`soak: ${inFlight.live} jobs waiting, used_memory ${mb(empty)} → ${mb(inFlight.used)}`);

    // 2. Steady load.
    stack.startHerald('workers');
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      let lastLog = 0;
      while (sampling) {
        const s = await sampleOnce(admin, queues, stack.prefix);
        samples.push(s);
        if (s.t - lastLog > 30_000) {
          lastLog = s.t;
          ctx.log(`soak: used_memory ${mb(s.used)}, live ${s.live}, completed ${s.completed}, stream ≤ ${s.streams}, keys ${s.keys}`);
        }
        await sleep(1000);
      }
    })();
    ctx.log(`soak: ${rate}/s for ${seconds} s`);
    const paced = await pacedInserts(stack.db.pool, { instanceId: 'bench-soak', tag: 's', rate, seconds, recipient: (i) => recipient('s', i) });
    await stack.waitSent(count, 'bench-soak');
    sampling = false;
    await sampler;
    assertAlive(stack.procs);

    const cap = keep;
    const full = samples.findIndex((s) => s.completed >= cap);
    const steady = full < 0 ? [] : samples.slice(full);
    const fifth = Math.max(1, Math.floor(steady.length / 5));
    const early = mean(steady.slice(0, fifth).map((s) => s.used));
    const late = mean(steady.slice(-fifth).map((s) => s.used));
    const peak = Math.max(...samples.map((s) => s.used));
    const last = samples.at(-1);
    const steadySeconds = steady.length > 1 ? ((steady.at(-1)?.t ?? 0) - (steady[0]?.t ?? 0)) / 1000 : 0;
    const flat = steady.length > 10 && late - early <= Math.max(0.05 * early, 1024 * 1024);
    const perThousandKept =
      last && steady.length > 0 ? (mean(steady.slice(-fifth).map((s) => s.used)) - empty) / ((last.completed + last.failed + last.live) / 1000) : NaN;
    figures.push(
      fig('soak', 'Redis used_memory per 1 000 jobs in flight (waiting)', `${(perThousandLive / 1024).toFixed(0)} KiB`, {
        baseline: `${mb(empty)} empty; ${inFlight.live} jobs → ${mb(inFlight.used)}`,
      }),
      fig(
        'soak',
        `used_memory after retention (HERALD_KEEP_JOBS=${cap} completed), first → last fifth of ${steadySeconds.toFixed(0)} s`,
        `${mb(early)} → ${mb(late)}`,
        {
          baseline: `peak ${mb(peak)}`,
          ratio: late / early,
          target: 'flat (≤ +5 % or 1 MB)',
          met: flat,
        },
      ),
      fig('soak', 'used_memory per 1 000 jobs held (retained + live), steady', `${(perThousandKept / 1024).toFixed(0)} KiB`, {
        baseline: last ? `${last.completed} completed, ${last.failed} failed, ${last.live} live` : '–',
      }),
      fig('soak', 'longest event stream (XLEN), steady', String(Math.max(...steady.map((s) => s.streams), 0)), {
        target: `≈ ${EVENTS_MAX_LEN} (MAXLEN ~)`,
        met: steady.every((s) => s.streams <= EVENTS_MAX_LEN * 1.5),
      }),
    );
    const minute = (i: number): Sample | undefined => samples[Math.min(samples.length - 1, i * 60)];
    const perMinute = Array.from({ length: Math.ceil(samples.length / 60) + 1 }, (_, i) => minute(i))
      .filter((s): s is Sample => s !== undefined)
      .map((s) => `${mb(s.used)} (${s.completed} done, ${s.live} live, ${s.keys} keys)`);
    const sent = await countEvents(stack.db.pool, 'notification.sent', 'bench-soak');
    notes.push(
      `${paced.count} requests pushed in ${paced.seconds.toFixed(1)} s (${(paced.count / paced.seconds).toFixed(0)}/s achieved); ${sent} notification.sent; retention reached after ${full < 0 ? 'never' : `${(((samples[full]?.t ?? 0) - (samples[0]?.t ?? 0)) / 1000).toFixed(0)} s`}`,
      `used_memory each minute: ${perMinute.join('; ')}`,
      `keys at the end: ${last?.keys ?? '?'} (one hash per retained or live job, plus BullMQ's fixed bookkeeping per queue)`,
    );
  } finally {
    await Promise.allSettled(queues.map((q) => q.close()));
    notes.push(...(await stack.close()));
    admin.disconnect();
    await redis.stop();
  }
  return { name: 'soak', wallSeconds: 0, figures, notes };
}
