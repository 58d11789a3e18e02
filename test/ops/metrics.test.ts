/**
 * /metrics counts sends by channel, message type and outcome, observes attempt duration and
 * request-to-delivery latency, reports queue depth and producer lag, and carries no address
 * or code. /healthz answers. Real Postgres, Redis and SMTP sink; the ops server on port 0.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { finishedAs, newId, requestNotification, seedUser } from '../helpers/zitadel.js';

let h: Harness;
let sink: SmtpSink;
let herald: Herald;
let base: string;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink({
    failWith: (_n, mail) => (mail.envelope.to[0] === 'bounce@example.com' ? { code: 550, message: 'no such user' } : undefined),
  });
  const cfg = h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', HERALD_HTTP_PORT: '0' });
  herald = await h.start(cfg, ['all'], { producerLoops: false, http: { host: '127.0.0.1' } });
  base = herald.http!.url;
});
afterAll(async () => {
  await h.close();
  await sink.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** Value of one series, e.g. value(text, 'herald_sends_total{channel="smtp",...}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it('answers /healthz', async () => {
  const res = await fetch(`${base}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});

it('counts sends by channel, message type and outcome, with latency and no secrets', async () => {
  const instanceId = newId();
  const ok = await seedUser(h.db.pool, { instanceId, email: 'metrics-ok@example.com' });
  const bounce = await seedUser(h.db.pool, { instanceId, email: 'bounce@example.com' });
  const sentIds = [
    await requestNotification(h.db.pool, ok, {}, { code: 'MCODE1' }),
    await requestNotification(h.db.pool, ok, { messageType: 'PasswordReset', eventType: 'user.human.password.code.added' }, { code: 'MCODE2' }),
  ];
  const canceledId = await requestNotification(h.db.pool, bounce, {}, { code: 'MCODE3' });

  const before = await scrape();
  expect(value(before, 'herald_sends_total{channel="smtp",message_type="InitCode",outcome="sent"}')).toBeUndefined();
  // The producer has not run yet: no checkpoint, no lag series.
  expect(before).not.toMatch(/^herald_producer_lag_seconds\{/m);

  await herald.producer?.tickRequests();
  for (const id of [...sentIds, canceledId]) {
    await waitUntil(() => finishedAs(h.db.pool, instanceId, id), { what: `notification ${id} finished` });
  }
  await herald.metrics?.settled();
  const text = await scrape();

  expect(value(text, 'herald_sends_total{channel="smtp",message_type="InitCode",outcome="sent"}')).toBe(1);
  expect(value(text, 'herald_sends_total{channel="smtp",message_type="PasswordReset",outcome="sent"}')).toBe(1);
  // The bounce is counted on the channel that refused it, with its message type.
  expect(value(text, 'herald_sends_total{channel="smtp",message_type="InitCode",outcome="canceled"}')).toBe(1);
  expect(text).not.toMatch(/^herald_sends_total\{channel="unknown"/m);
  expect(value(text, 'herald_job_outcomes_total{queue="notification-requests",outcome="sent"}')).toBe(2);
  expect(value(text, 'herald_attempt_duration_seconds_count{outcome="sent"}')).toBe(2);
  expect(value(text, 'herald_request_to_delivery_seconds_count{channel="smtp",message_type="InitCode"}')).toBe(1);
  const latency = value(text, 'herald_request_to_delivery_seconds_sum{channel="smtp",message_type="InitCode"}');
  expect(latency).toBeGreaterThan(0);
  expect(latency).toBeLessThan(30);

  // Queue depth by state, for both queues; the finished jobs are kept as completed/failed.
  expect(value(text, 'herald_queue_jobs{queue="notification-requests",state="completed"}')).toBe(2);
  expect(value(text, 'herald_queue_jobs{queue="notification-requests",state="failed"}')).toBe(1);
  expect(value(text, 'herald_queue_jobs{queue="notification-retries",state="waiting"}')).toBe(0);
  // The producer's checkpoint is at the newest request: caught up.
  expect(value(text, 'herald_producer_lag_seconds{tail="requests"}')).toBe(0);
  // Default Node metrics.
  expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);

  for (const secret of ['MCODE1', 'MCODE2', 'MCODE3', '@example.com', instanceId, ...sentIds]) expect(text).not.toContain(secret);
});

it('reports producer lag when requests are newer than the checkpoint', async () => {
  const instanceId = newId();
  const user = await seedUser(h.db.pool, { instanceId });
  await requestNotification(h.db.pool, user, {}, { code: 'LAG001' });
  // Push the newest request's position one minute past the checkpoint, as if the producer
  // had fallen behind by that much.
  await h.db.pool.query(
    `UPDATE eventstore.events2 SET "position" = (SELECT "position" FROM herald.checkpoints WHERE name = 'producer.requests') + 60
      WHERE instance_id = $1 AND event_type = 'notification.requested'`,
    [instanceId],
  );
  const lag = value(await scrape(), 'herald_producer_lag_seconds{tail="requests"}');
  expect(lag).toBeCloseTo(60, 3);
});
