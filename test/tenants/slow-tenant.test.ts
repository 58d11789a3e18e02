/**
 * Issue #15 (a): tenant A's own SMTP server accepts connections and never answers (a
 * black-holed relay), while tenant B sends 10 requests/s through the deployment's SMTP.
 * A's sends hold at most its share of the worker slots (HERALD_INSTANCE_CONCURRENCY, half of
 * Workers); its other jobs are deferred to delayed instead of waiting in a slot. B's p99
 * request-to-delivery stays under 1 s. After 5 timeouts A's breaker opens (/metrics).
 */

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import type { Outcome } from '../../src/worker/process.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, newId, requestNotification, seedUser, USER_KEY } from '../helpers/zitadel.js';
import { type BlackHole, instanceEvents, p99, startBlackHole } from './support.js';

const SMTP_KEY = 'smtp-key-0123456789abcdef0123456';
const RATE = 10;
const SECONDS = 8;

let h: Harness;
let sink: SmtpSink;
let blackHole: BlackHole;
let herald: Herald;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  blackHole = await startBlackHole();
});
afterAll(async () => {
  await h.close();
  await blackHole.close();
  await sink.close();
});

it("keeps B's p99 under 1 s while A's SMTP server never answers", async () => {
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
  const userB = await seedUser(h.db.pool, { instanceId: b, email: 'b@b.example' });

  const requestedAt = new Map<string, number>();
  const latency: number[] = [];
  const cfg = h.config({
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
    HERALD_ENCRYPTION_KEYS: JSON.stringify({ userKey: USER_KEY, smtpKey: SMTP_KEY }),
    HERALD_EGRESS_ALLOW: '127.0.0.1/32',
    HERALD_RECIPIENT_LIMIT: '0',
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
  });
  herald = await h.start(cfg, ['all'], {
    producerLoops: true,
    http: { host: '127.0.0.1' },
    onOutcome: (outcome: Outcome, job) => {
      const at = requestedAt.get(job.data.aggregateId);
      if (outcome.kind === 'sent' && at !== undefined) latency.push(Date.now() - at);
    },
  });

  const bIds: string[] = [];
  for (let tick = 0; tick < RATE * SECONDS; tick++) {
    const next = Date.now() + 1000 / RATE;
    await requestNotification(h.db.pool, userA);
    const started = Date.now();
    const id = await requestNotification(h.db.pool, userB);
    requestedAt.set(id, started);
    bIds.push(id);
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  await waitUntil(() => latency.length >= bIds.length, { what: "B's requests delivered", timeoutMs: 20_000 });
  expect(sink.messages.filter((m) => m.envelope.to.includes('b@b.example')).length).toBe(bIds.length);
  expect(p99(latency)).toBeLessThan(1000);

  // A never got more than its share: its other jobs were deferred, not parked in slots.
  const metrics = async () => (await fetch(`http://127.0.0.1:${herald.http?.port}/metrics`)).text();
  expect(await metrics()).toMatch(/herald_instance_concurrency_deferred_total [1-9]/);
  // Greeting timeouts (10 s) of A's sends open A's breaker.
  await waitUntil(async () => /herald_provider_breaker_open\{provider_kind="smtp"\} 1/.test(await metrics()), {
    what: "A's breaker to open",
    timeoutMs: 30_000,
    intervalMs: 250,
  });
}, 90_000);
