/**
 * Issue #15 (c): 30 password resets for one user within 5 s → at most 10 mails leave
 * (HERALD_RECIPIENT_LIMIT's default 10/10m), every other one is canceled with a reason that
 * names the limit. Another user, and another message type to the same user, are unaffected.
 * Real Postgres, Redis and SMTP; herald in-process with its producer loops.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { REDIS_URL } from '../helpers/env.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { eventsOf, finishedAs, newId, requestNotification, seedUser } from '../helpers/zitadel.js';

let h: Harness;
let sink: SmtpSink;
let herald: Herald;

beforeAll(async () => {
  h = await makeHarness();
  sink = await startSmtpSink();
  const cfg = h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms' });
  herald = await h.start(cfg, ['all'], { producerLoops: true, http: { host: '127.0.0.1' } });
});
afterAll(async () => {
  await h.close();
  await sink.close();
});

const reset = {
  eventType: 'user.human.password.code.added',
  messageType: 'PasswordReset',
  urlTemplate: 'https://auth.example.com/reset?code={{.Code}}',
};

it('sends at most 10 resets to one recipient within the window and cancels the rest with the reason', async () => {
  const instanceId = newId();
  const user = await seedUser(h.db.pool, { instanceId, email: 'victim@example.com' });
  const other = await seedUser(h.db.pool, { instanceId, email: 'bystander@example.com' });
  const ids: string[] = [];
  const started = Date.now();
  for (let i = 0; i < 30; i++) {
    ids.push(await requestNotification(h.db.pool, user, reset, { code: `RST${String(i).padStart(3, '0')}` }));
    await new Promise((r) => setTimeout(r, 150));
  }
  expect(Date.now() - started).toBeLessThan(6000);
  const bystander = await requestNotification(h.db.pool, other, reset);
  const invite = await requestNotification(h.db.pool, user, { eventType: 'user.human.initialization.code.added', messageType: 'InitCode' });

  const outcomes = await waitUntil(
    async () => {
      const all = await Promise.all(ids.map((id) => finishedAs(h.db.pool, instanceId, id)));
      return all.every((o) => o !== undefined) && all;
    },
    { what: '30 resets finished', timeoutMs: 30_000 },
  );
  const sent = outcomes.filter((o) => o === 'notification.sent').length;
  expect(sent).toBe(10);
  expect(outcomes.filter((o) => o === 'notification.canceled').length).toBe(20);
  for (const [i, id] of ids.entries()) {
    if (outcomes[i] !== 'notification.canceled') continue;
    const last = (await eventsOf(h.db.pool, instanceId, id)).at(-1);
    expect((last?.payload as { error?: string }).error).toBe(
      'flood guard: more than 10 messages of type PasswordReset to this recipient within 10m (HERALD_RECIPIENT_LIMIT)',
    );
  }
  expect(await waitUntil(() => finishedAs(h.db.pool, instanceId, bystander), { what: 'bystander' })).toBe('notification.sent');
  expect(await waitUntil(() => finishedAs(h.db.pool, instanceId, invite), { what: 'invite' })).toBe('notification.sent');
  expect(sink.messages.filter((m) => m.envelope.to.includes('victim@example.com')).length).toBe(11);

  // Visible in /metrics; Redis keys never hold the address.
  const metrics = await (await fetch(`http://127.0.0.1:${herald.http?.port}/metrics`)).text();
  expect(metrics).toMatch(/herald_recipient_limit_canceled_total\{message_type="PasswordReset"\} 20/);
  const redis = new Redis(REDIS_URL);
  const redisKeys = await redis.keys(`${h.prefix}:limits:*`);
  redis.disconnect();
  expect(redisKeys.length).toBeGreaterThan(0);
  expect(redisKeys.join(' ')).not.toMatch(/victim|example/);
}, 60_000);
