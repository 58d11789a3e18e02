/**
 * A scenario's private world: database, Redis prefix, SMTP sink, and (when started) one
 * producer and two worker processes; `close()` stops and removes all of it.
 */
import type { BenchContext } from './context.js';
import { type CostWindow, startCostWindow } from './costs.js';
import { type CpuReport, formatCpu, startCpuWindow } from './cpu.js';
import { type BenchDatabase, countEvents, createBenchDatabase } from './db.js';
import { assertAlive, type FleetPart, type HeraldProc, spawnFleet } from './herald.js';
import { sampleActivity } from './pg-activity.js';
import { benchPrefix, dropPrefix } from './redis.js';
import { seedRequests, seedUsers } from './seed.js';
import { type BenchSink, startSink } from './sink.js';
import { sleep } from './stats.js';

export interface Stack {
  readonly db: BenchDatabase;
  readonly prefix: string;
  readonly sink: BenchSink;
  readonly procs: readonly HeraldProc[];
  /** Starts the fleet (or its producer, then its workers). */
  startHerald(part?: FleetPart): void;
  /** Starts a profile window: CPU per part and Postgres activity; end() gives note lines. */
  cpuWindow(): { end(): Promise<{ report: CpuReport; lines: string[] }> };
  /** Starts a per-message cost window (Postgres and herald CPU, Redis commands) over the running fleet. */
  costWindow(): Promise<CostWindow>;
  /** Sends `n` throw-away requests (tag w) and waits for them, then clears the sink. */
  warmUp(instanceId: string, n?: number): Promise<void>;
  /** Waits until `n` notification.sent rows exist (optionally of one instance); resolves to the time it saw them. */
  waitSent(n: number, instanceId?: string): Promise<number>;
  /** Waits for `n` accepted mails, failing fast if herald died. */
  waitMails(n: number, onProgress?: (count: number) => void): Promise<void>;
  close(): Promise<string[]>;
}

export interface StackOptions {
  redisUrl?: string;
  /** Run herald with its own defaults (no WORKERS/BULKLIMIT/REQUEUEEVERY, no --env extras). */
  defaults?: boolean;
  /** Overrides --no-notify-trigger for this stack. */
  notifyTrigger?: boolean;
  /** Worker processes beside the producer. @defaultValue 2 */
  workerProcs?: number;
}

export async function makeStack(ctx: BenchContext, env: StackOptions = {}): Promise<Stack> {
  const { opts } = ctx;
  const db = await createBenchDatabase({ notifyTrigger: env.notifyTrigger ?? opts.notifyTrigger });
  const prefix = benchPrefix();
  const sink = await startSink().catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  const procs: HeraldProc[] = [];
  const settings = {
    databaseUrl: db.url,
    prefix,
    smtpUrl: sink.url,
    workers: env.defaults ? undefined : opts.workers,
    bulkLimit: env.defaults ? undefined : opts.bulkLimit,
    requeueEvery: env.defaults ? undefined : opts.requeueEvery,
    extra: env.defaults ? {} : opts.extraEnv,
    ...(env.redisUrl === undefined ? {} : { redisUrl: env.redisUrl }),
  };

  const stack: Stack = {
    db,
    prefix,
    sink,
    procs,
    startHerald(part = 'all') {
      procs.push(...spawnFleet(opts.runner, settings, env.workerProcs ?? 2, part));
    },
    costWindow() {
      return startCostWindow(
        db.pool,
        db.name,
        procs.map((p) => p.pid),
      );
    },
    cpuWindow() {
      const named: Record<string, number> = { sink: sink.pid };
      for (const p of procs) named[p.name] = p.pid;
      const cpu = startCpuWindow(named, ctx.redisPid, ctx.cores);
      const activity = sampleActivity(db.pool);
      return {
        async end() {
          const report = cpu.end();
          const top = await activity.stop();
          return { report, lines: [formatCpu(report), ...top.map((t) => `pg: ${t}`)] };
        },
      };
    },
    async warmUp(instanceId, n = 20) {
      const t0 = Date.now();
      await seedUsers(db.pool, instanceId, 'w', 0, n);
      await seedRequests(db.pool, instanceId, 'w', 0, n, 1);
      await stack.waitMails(n);
      await stack.waitSent(n, instanceId);
      await sink.reset();
      ctx.log(`herald up and warm (${n} requests delivered) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    },
    async waitSent(n, instanceId) {
      const deadline = Date.now() + opts.timeoutMs;
      for (;;) {
        assertAlive(procs);
        if ((await countEvents(db.pool, 'notification.sent', instanceId)) >= n) return Date.now();
        if (Date.now() > deadline) throw new Error(`fewer than ${n} notification.sent rows after ${opts.timeoutMs} ms`);
        await sleep(50);
      }
    },
    async waitMails(n, onProgress) {
      const deadline = Date.now() + opts.timeoutMs;
      for (;;) {
        assertAlive(procs);
        const { count } = await sink.count();
        onProgress?.(count);
        if (count >= n) return;
        if (Date.now() > deadline) throw new Error(`sink: ${count}/${n} mails after ${opts.timeoutMs} ms`);
        await sleep(20);
      }
    },
    async close() {
      const notes: string[] = [];
      const codes = await Promise.all(procs.map((p) => p.stop()));
      codes.forEach((c, i) => {
        const p = procs[i];
        const out = p?.output().trim() ?? '';
        if (p && c === 0 && out !== '') notes.push(`herald ${p.name} logged: ${out.slice(0, 400).replace(/\s+/g, ' ')}`);
        if (p && c !== 0) notes.push(`herald ${p.name} exited with ${String(c)}: ${p.output().slice(-600).replace(/\s+/g, ' ')}`);
      });
      await sink.close();
      await dropPrefix(prefix);
      await db.drop();
      return notes;
    },
  };
  return stack;
}
