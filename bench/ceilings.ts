/**
 * Ceilings, measured in the same run as herald's figures:
 * - raw BullMQ: addBulk of N no-op jobs (herald's job options and id shape) and one worker
 *   with herald's concurrency, jobs/s from the first add to the last completion;
 * - raw SMTP: one pooled nodemailer transport (10 connections: herald's 5 per worker
 *   process × 2) sending N messages of herald's size to the benchmark sink, 100 in flight;
 *   this is also the sink's own ceiling;
 * - SMTP latency at the latency scenario's rate: sendMail call → accepted at the sink.
 */
import { performance } from 'node:perf_hooks';

import { Queue, Worker } from 'bullmq';
import nodemailer from 'nodemailer';

import type { BenchContext } from './lib/context.js';
import { formatCpu, startCpuWindow } from './lib/cpu.js';
import { benchPrefix, dropPrefix, redisClient } from './lib/redis.js';
import { fig, type ScenarioResult } from './lib/report.js';
import { startSink } from './lib/sink.js';
import { latencySummary, sleep } from './lib/stats.js';

/** Roughly the size of herald's rendered init-code mail (HTML + text, see notes in results). */
export const CEILING_HTML_BYTES = 2300;

async function bullmqCeiling(ctx: BenchContext, n: number): Promise<{ perSec: number; cpu: string }> {
  const prefix = benchPrefix();
  const conn = redisClient();
  const wconn = redisClient();
  const queue = new Queue('noop', { connection: conn, prefix, defaultJobOptions: { attempts: 3, removeOnComplete: { count: 10_000 } } });
  let done = 0;
  let resolveDone: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (resolveDone = r));
  const worker = new Worker('noop', async () => undefined, { connection: wconn, prefix, concurrency: ctx.opts.workers, autorun: false });
  worker.on('completed', () => {
    done += 1;
    if (done >= n) resolveDone();
  });
  try {
    await worker.waitUntilReady();
    const cpu = startCpuWindow({}, ctx.redisPid, ctx.cores);
    const t0 = performance.now();
    void worker.run();
    for (let s = 0; s < n; s += 1000) {
      const jobs = [];
      for (let i = s; i < Math.min(n, s + 1000); i++) {
        jobs.push({ name: 'requested', data: { instanceId: 'i', aggregateId: `a${i}`, sequence: 1 }, opts: { jobId: `i/a${i}/1`, priority: 10 } });
      }
      await queue.addBulk(jobs);
    }
    await Promise.race([allDone, sleep(ctx.opts.timeoutMs).then(() => Promise.reject(new Error(`bullmq: ${done}/${n} after timeout`)))]);
    const seconds = (performance.now() - t0) / 1000;
    return { perSec: n / seconds, cpu: formatCpu(cpu.end()) };
  } finally {
    await worker.close();
    await queue.close();
    conn.disconnect();
    wconn.disconnect();
    await dropPrefix(prefix);
  }
}

function mail(to: string, html: string) {
  return {
    from: 'herald-bench@example.com',
    to,
    subject: 'Initialize User',
    text: 'Hello Bench User, this user was created in ZITADEL. Use the code 123456 to initialize.',
    html,
  };
}

export async function runCeilings(ctx: BenchContext): Promise<ScenarioResult> {
  const { n, latencyRate } = ctx.opts;
  const figures = [];
  const notes: string[] = [];

  ctx.log(`ceilings: bullmq ${n} no-op jobs`);
  const bull = await bullmqCeiling(ctx, n);
  ctx.baselines.bullmqPerSec = bull.perSec;
  figures.push(fig('ceilings', 'raw BullMQ no-op jobs/s (addBulk + 1 worker)', bull.perSec.toFixed(0)));
  notes.push(`BullMQ: ${n} jobs, concurrency ${ctx.opts.workers}; ${bull.cpu}`);

  const sink = await startSink();
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: Number(new URL(sink.url).port),
    pool: true,
    maxConnections: 10,
    maxMessages: 10_000,
  });
  const html = `<html><body>${'<p>Bench filler text for a realistic message size.</p>'.repeat(Math.ceil(CEILING_HTML_BYTES / 55))}</body></html>`;
  try {
    await transport.sendMail(mail('warm@bench.example.com', html));
    await sink.reset();
    ctx.log(`ceilings: smtp ${n} messages`);
    const cpu = startCpuWindow({ sink: sink.pid }, ctx.redisPid, ctx.cores);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < n) {
          const i = next++;
          await transport.sendMail(mail(`c${i}@bench.example.com`, html));
        }
      }),
    );
    await sink.waitFor(n, ctx.opts.timeoutMs);
    const perSec = n / ((performance.now() - t0) / 1000);
    const c = await sink.count();
    ctx.baselines.smtpPerSec = perSec;
    figures.push(fig('ceilings', 'raw pooled nodemailer → sink msgs/s', perSec.toFixed(0)));
    notes.push(`SMTP: ${n} messages of ${(c.bytes / c.count).toFixed(0)} B, 10 pooled connections, 100 in flight; ${formatCpu(cpu.end())}`);

    // Latency floor at the latency scenario's pace.
    await sink.reset();
    const count = latencyRate * 5;
    const sentAt = new Map<string, number>();
    const t1 = performance.timeOrigin + performance.now();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const due = t1 + (i * 1000) / latencyRate;
      const wait = due - (performance.timeOrigin + performance.now());
      if (wait > 1) await sleep(wait);
      const to = `p${i}@bench.example.com`;
      sentAt.set(to, performance.timeOrigin + performance.now());
      sends.push(transport.sendMail(mail(to, html)));
    }
    await Promise.all(sends);
    await sink.waitFor(count, ctx.opts.timeoutMs);
    const lat = latencySummary((await sink.deliveries()).map((d) => d.at - (sentAt.get(d.to) ?? d.at)));
    ctx.baselines.smtpLatency = { p50: lat.p50, p99: lat.p99 };
    figures.push(fig('ceilings', `raw SMTP send latency p50 / p99 at ${latencyRate}/s`, `${lat.p50.toFixed(1)} / ${lat.p99.toFixed(1)} ms`));
  } finally {
    transport.close();
    await sink.close();
  }
  return { name: 'ceilings', wallSeconds: 0, figures, notes };
}
