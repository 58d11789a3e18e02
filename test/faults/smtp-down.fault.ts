/**
 * The SMTP server is down (connections refused) for 20 s. Deliveries resume once it is
 * back; a notification whose next attempt came later than MaxTtl after its last event is
 * canceled as expired; none is left pending and none is sent twice.
 *
 * MaxTtl is 6 s instead of 5 min so the test fits in CI. Like ZITADEL, herald measures
 * MaxTtl from the latest event of the notification (the last retry), so a notification
 * expires when one backoff delay outgrows MaxTtl: MaxRetryDelay 10 s with factor 2 lets
 * the delays of the first wave grow past 6 s during the outage, while a second wave,
 * written just before the server returns, is retried inside MaxTtl and delivered.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { REDIS_URL } from '../helpers/env.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { type HeraldProcess, spawnHerald } from '../helpers/spawn.js';
import { waitUntil } from '../helpers/wait.js';
import { eventsOf, newId } from '../helpers/zitadel.js';
import { duplicateCount, heraldEnv, seedRequests, tally, waitAllFinished } from './helpers/fleet.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const DOWN_MS = 20_000;
const MAX_TTL_MS = 6_000;
const WAVE_A = 40;
const WAVE_B = 20;
let h: Harness;
let sink: SmtpSink;
let proxy: TcpProxy;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  proxy = await startTcpProxy({ port: sink.port });
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  await proxy?.close();
  await sink?.close();
  await h.close();
});

it('resumes after a 20 s SMTP outage; expired ones canceled, none lost', async () => {
  const instanceId = newId();
  const env = heraldEnv(
    { databaseUrl: h.db.url, redisUrl: REDIS_URL, prefix: h.prefix, smtpUrl: `smtp://127.0.0.1:${proxy.port}` },
    {
      ZITADEL_NOTIFICATIONS_MAXTTL: `${MAX_TTL_MS}ms`,
      ZITADEL_NOTIFICATIONS_MAXATTEMPTS: '1000',
      ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '1s',
      ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '10s',
      ZITADEL_NOTIFICATIONS_RETRYDELAYFACTOR: '2',
      // This scenario is about the retry path and MaxTtl (events written per failed try); the
      // breaker, which holds sends without events for 30 s, has its own tests (test/tenants/).
      HERALD_BREAKER_THRESHOLD: '0',
    },
  );
  procs.push(spawnHerald(['start'], env));

  await proxy.down();
  const downAt = Date.now();
  const waveA = await seedRequests(h.db.pool, instanceId, WAVE_A, 'a');
  await waitUntil(() => Date.now() - downAt >= DOWN_MS - 500, { timeoutMs: DOWN_MS, intervalMs: 100 });
  const waveB = await seedRequests(h.db.pool, instanceId, WAVE_B, 'b');
  // Each of wave B has failed once (its next try is ≥ MinRetryDelay away) before the server returns.
  await waitUntil(
    async () => {
      const t = await tally(h.db.pool, instanceId);
      return waveB.every((s) => (t.get(s.aggregateId)?.retries ?? 0) >= 1) && Date.now() - downAt >= DOWN_MS;
    },
    { timeoutMs: 10_000, what: 'wave B to fail once' },
  );
  expect(sink.messages).toHaveLength(0);
  await proxy.up();
  const upAt = Date.now();
  await sink.waitFor(1, 15_000);
  const firstAfterMs = Date.now() - upAt;

  const outcome = await waitAllFinished(h.db.pool, instanceId, WAVE_A + WAVE_B, 30_000);
  const allDoneMs = Date.now() - upAt;
  const delivered = new Set(sink.messages.map((m) => m.envelope.to[0]));
  const canceled = [...waveA, ...waveB].filter((s) => outcome.get(s.aggregateId)?.canceled === 1);
  for (const s of [...waveA, ...waveB]) {
    const t = outcome.get(s.aggregateId);
    expect(t && t.sent + t.canceled).toBe(1); // exactly one outcome, nothing pending
    expect(delivered.has(s.email)).toBe(t?.sent === 1); // sent ⇔ delivered
  }
  // Every cancel is for MaxTtl, and came more than MaxTtl after the event before it.
  for (const s of canceled) {
    const events = await eventsOf(h.db.pool, instanceId, s.aggregateId);
    expect((events.at(-1)?.payload as { error: string }).error).toMatch(/expired.*MaxTtl \(6s\)/);
  }
  const gaps = await h.db.pool.query<{ gap_ms: number }>(
    `SELECT EXTRACT(EPOCH FROM c.created_at - p.created_at) * 1000 AS gap_ms
       FROM eventstore.events2 c JOIN eventstore.events2 p
         ON p.instance_id = c.instance_id AND p.aggregate_type = c.aggregate_type
        AND p.aggregate_id = c.aggregate_id AND p."sequence" = c."sequence" - 1
      WHERE c.instance_id = $1 AND c.event_type = 'notification.canceled'`,
    [instanceId],
  );
  expect(gaps.rows.every((r) => Number(r.gap_ms) > MAX_TTL_MS)).toBe(true);
  expect(canceled.length).toBeGreaterThan(0); // some were past MaxTtl…
  expect(waveB.every((s) => outcome.get(s.aggregateId)?.sent === 1)).toBe(true); // …the recent ones resumed
  expect(duplicateCount(sink.messages)).toBe(0);
  const sentA = waveA.filter((s) => outcome.get(s.aggregateId)?.sent === 1).length;
  const retries = [...outcome.values()].reduce((n, t) => n + t.retries, 0);
  console.info(
    `[fault:smtp-down] down=${DOWN_MS}ms MaxTtl=${MAX_TTL_MS}ms waveA=${WAVE_A} (sent ${sentA}, canceled ${WAVE_A - sentA}) ` +
      `waveB=${WAVE_B} (sent ${WAVE_B}) retry-events=${retries} first-delivery-after-return=${firstAfterMs}ms all-done-after-return=${allDoneMs}ms`,
  );
});
