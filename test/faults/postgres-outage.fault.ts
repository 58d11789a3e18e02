/**
 * KNOWN BUG (src/eventstore/pool.ts, not owned by this suite; see the fault report): a client
 * checked out by withTransaction() has no 'error' listener, so a connection cut while it is
 * checked out crashes the worker with an unhandled 'error' event (about 1 run in 3 here).
 * This test fails on that until withTransaction listens for 'error' during the checkout.
 *
 * "Postgres restarted" mid-run, simulated by a TCP proxy in front of the shared cluster (the
 * real one is never restarted): every connection is cut and new ones are refused for a few
 * seconds, then accepted again. Workers delay their jobs without using an attempt, the
 * producer retries its pass, nothing is lost or sent twice, and the process never exits.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { REDIS_URL } from '../helpers/env.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { type HeraldProcess, spawnHerald } from '../helpers/spawn.js';
import { waitUntil } from '../helpers/wait.js';
import { newId } from '../helpers/zitadel.js';
import { duplicateCount, heraldEnv, seedRequests, waitAllFinished } from './helpers/fleet.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const N = 300;
const OUTAGE_MS = 5_000;
let h: Harness;
let sink: SmtpSink;
let proxy: TcpProxy;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  proxy = await startTcpProxy({ port: 5432 });
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  await proxy?.close();
  await sink?.close();
  await h.close();
});

it('rides out a Postgres restart: jobs delayed, nothing lost, no crash loop', async () => {
  const instanceId = newId();
  const seeded = await seedRequests(h.db.pool, instanceId, N, 'p');
  const viaProxy = h.db.url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`);
  const env = heraldEnv({ databaseUrl: viaProxy, redisUrl: REDIS_URL, prefix: h.prefix, smtpUrl: sink.url }, { ZITADEL_NOTIFICATIONS_WORKERS: '2' });
  const worker = spawnHerald(['start', '--role', 'worker'], env);
  const producer = spawnHerald(['start', '--role', 'producer'], env);
  procs.push(worker, producer);
  const pids = [worker.child.pid, producer.child.pid];

  await sink.waitFor(50, 30_000);
  await proxy.down();
  const downAt = Date.now();
  const sentBefore = sink.messages.length;
  // Wait while Postgres is away, on a condition: the worker notices and delays jobs.
  await waitUntil(
    () => {
      if (worker.child.exitCode !== null) throw new Error(`worker exited during the outage:\n${worker.output().slice(-2000)}`);
      return /dependency unavailable; job delayed/.test(worker.output());
    },
    { timeoutMs: OUTAGE_MS, what: 'the worker to delay a job' },
  );
  await waitUntil(() => Date.now() - downAt >= OUTAGE_MS, { timeoutMs: OUTAGE_MS + 1000, intervalMs: 100 });
  const sentDuringOutage = sink.messages.length - sentBefore;
  await proxy.up();
  const upAt = Date.now();
  await waitUntil(() => sink.messages.length > sentBefore + sentDuringOutage, { timeoutMs: 20_000, what: 'deliveries to resume' });
  const resumedMs = Date.now() - upAt;

  const outcome = await waitAllFinished(h.db.pool, instanceId, N, 60_000);
  const recoveredMs = Date.now() - upAt;
  const all = [...outcome.values()];
  expect(all.filter((t) => t.sent === 1)).toHaveLength(N);
  // An outage is not a failed send: no attempt was used and nothing was canceled.
  expect(all.filter((t) => t.retries > 0 || t.canceled > 0)).toEqual([]);
  expect(duplicateCount(sink.messages)).toBe(0);
  expect(new Set(sink.messages.map((m) => m.envelope.to[0]))).toEqual(new Set(seeded.map((s) => s.email)));

  // Same processes from start to end: no crash, no restart loop.
  for (const p of [worker, producer]) {
    expect(p.child.exitCode, p.output()).toBeNull();
    expect(p.child.signalCode).toBeNull();
  }
  expect([worker.child.pid, producer.child.pid]).toEqual(pids);
  expect(producer.output()).toMatch(/producer pass failed; retrying next interval/);
  console.info(
    `[fault:postgres] N=${N} outage=${OUTAGE_MS}ms sent-before=${sentBefore} sent-during=${sentDuringOutage} ` +
      `first-delivery-after-return=${resumedMs}ms all-done-after-return=${recoveredMs}ms`,
  );
  expect(await worker.stop('SIGTERM')).toBe(0);
  expect(await producer.stop('SIGTERM')).toBe(0);
});
