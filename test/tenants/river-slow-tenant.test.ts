/**
 * Issue #15 (a) in River mode (ZITADEL v2.71+, HERALD_SOURCE=river): tenant A's own SMTP
 * server accepts connections and never answers (a black-holed relay), while tenant B's
 * requests arrive at 10/s and go out through the deployment's SMTP. Rows are inserted into
 * River's `queue.river_job` as ZITADEL's user notifier inserts them. A's attempts hold at
 * most its share of the worker slots (HERALD_INSTANCE_CONCURRENCY, half of Workers); its
 * other River jobs are deferred to delayed (their rows stay `running`, untouched), so B's
 * p99 insert-to-delivery stays under 1 s. Without the share (HERALD_INSTANCE_CONCURRENCY =
 * Workers) A fills every slot and B waits behind it.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import type { RiverOutcome } from '../../src/river/attempt.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { createRiverSchema, insertRiverJob, userArgs } from '../helpers/river.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, newId, seedUser, USER_KEY } from '../helpers/zitadel.js';
import { type BlackHole, instanceEvents, p99, startBlackHole } from './support.js';

const SMTP_KEY = 'smtp-key-0123456789abcdef0123456';
const RATE = 10;
const SECONDS = 8;
const WORKERS = 20;

const harnesses: Harness[] = [];
let sink: SmtpSink;
let blackHole: BlackHole;

beforeAll(async () => {
  sink = await startSmtpSink();
  blackHole = await startBlackHole();
});
afterAll(async () => {
  await Promise.allSettled(harnesses.map((h) => h.close()));
  await blackHole.close();
  await sink.close();
});

const metricsOf = async (herald: Herald) => (await fetch(`http://127.0.0.1:${herald.http?.port}/metrics`)).text();

/** A black-holed tenant A and tenant B at 10/s for 8 s; B's insert-to-delivery latencies. */
async function slowTenant(instanceConcurrency: number | undefined): Promise<{ h: Harness; herald: Herald; latency: number[]; aRows: string[] }> {
  const h = await makeHarness();
  harnesses.push(h);
  await createRiverSchema(h.db.pool);
  const a = newId();
  const b = newId();
  const A = instanceEvents(a);
  await insertZitadelEvents(h.db.pool, [
    A('instance.added', { name: 'A' }),
    A('instance.smtp.config.added', {
      id: 'smtp-a',
      host: blackHole.host,
      user: 'user-a',
      senderAddress: 'no-reply@a.example',
      password: encryptCode('pass-a', 'smtpKey', SMTP_KEY),
    }),
    A('instance.smtp.config.activated', { id: 'smtp-a' }),
  ]);
  const userA = await seedUser(h.db.pool, { instanceId: a, email: 'a@a.example' });
  // B's requests come from several users: a user's sent events go onto its own aggregate, and
  // two of them finishing at the same moment would meet a concurrent write (a 1 s retry).
  const usersB = [];
  for (let i = 0; i < 20; i++) usersB.push(await seedUser(h.db.pool, { instanceId: b, email: `b${i}@b.example` }));

  const insertedAt = new Map<string, number>();
  const latency: number[] = [];
  const cfg = h.config({
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
    HERALD_SOURCE: 'river',
    HERALD_HTTP_PORT: '0',
    HERALD_ENCRYPTION_KEYS: JSON.stringify({ userKey: USER_KEY, smtpKey: SMTP_KEY }),
    HERALD_EGRESS_ALLOW: '127.0.0.1/32',
    HERALD_RECIPIENT_LIMIT: '0',
    ZITADEL_NOTIFICATIONS_WORKERS: String(WORKERS),
    ...(instanceConcurrency === undefined ? {} : { HERALD_INSTANCE_CONCURRENCY: String(instanceConcurrency) }),
  });
  const herald = await h.start(cfg, ['all'], {
    producerLoops: true,
    http: { host: '127.0.0.1' },
    onRiverOutcome: (outcome: RiverOutcome, job) => {
      const at = insertedAt.get(job.data.riverId);
      if (outcome.kind === 'sent' && at !== undefined) latency.push(Date.now() - at);
    },
  });

  // Each row its own code, as ZITADEL's: identical args would be twins (one sent at a time).
  const args = (user: typeof userA) =>
    userArgs(user, { code: encryptCode(String(100_000 + Math.floor(Math.random() * 900_000))), codeExpiry: 600_000_000_000 });
  const aRows: string[] = [];
  for (let tick = 0; tick < RATE * SECONDS; tick++) {
    const next = Date.now() + 1000 / RATE;
    aRows.push(await insertRiverJob(h.db.pool, args(userA)));
    const started = Date.now();
    insertedAt.set(await insertRiverJob(h.db.pool, args(usersB[tick % usersB.length]!)), started);
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await waitUntil(() => latency.length >= RATE * SECONDS, { what: "B's River rows delivered", timeoutMs: 60_000, intervalMs: 100 });
  return { h, herald, latency, aRows };
}

it("keeps B's p99 under 1 s while A's SMTP server never answers (River rows)", async () => {
  const { h, herald, latency, aRows } = await slowTenant(undefined);
  expect(sink.messages.filter((m) => m.envelope.to.some((to) => to.endsWith('@b.example'))).length).toBe(RATE * SECONDS);
  expect(p99(latency)).toBeLessThan(1000);
  // A never got more than its share: its other River jobs were deferred, not parked in slots.
  expect(await metricsOf(herald)).toMatch(/herald_instance_concurrency_deferred_total [1-9]/);
  // A deferral does not touch the row: A's rows are still with herald (running, first
  // attempt, no error recorded) or finished by a real attempt — never failed by a deferral.
  const { rows } = await h.db.pool.query<{ state: string; attempt: number; errors: unknown[] | null }>(
    `SELECT state::text AS state, attempt, errors FROM queue.river_job WHERE id = ANY($1::bigint[]) AND state = 'running'`,
    [aRows],
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) expect({ attempt: r.attempt, errors: r.errors }).toEqual({ attempt: 1, errors: null });
  await herald.stop();
}, 120_000);

it("without the share (HERALD_INSTANCE_CONCURRENCY = Workers) A's attempts fill the slots and B's p99 grows", async () => {
  const { herald, latency } = await slowTenant(WORKERS);
  expect(p99(latency)).toBeGreaterThan(1000);
  expect(await metricsOf(herald)).toMatch(/herald_instance_concurrency_deferred_total 0/);
  await herald.stop();
}, 120_000);
