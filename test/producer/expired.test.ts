/**
 * Requests that were already older than MaxTtl when herald first saw them (herald was down,
 * or started late): found by a bounded, cursor-driven scan behind the window and canceled
 * with an error text, while fresh requests are delivered. Real Postgres, Redis and SMTP.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { makeProducer } from '../../src/producer/producer.js';
import { loadCheckpoint } from '../../src/producer/sql.js';
import { makeRedis } from '../../src/queue/connection.js';
import { jobIdFor } from '../../src/queue/names.js';
import { makeQueues } from '../../src/queue/queues.js';
import { REDIS_URL } from '../helpers/env.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness, silent } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { type DemoUser, eventsOf, finishedAs, newId, requestNotification, seedUser } from '../helpers/zitadel.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(): Promise<Harness> {
  const h = await makeHarness();
  cleanups.push(() => h.close());
  return h;
}

/** Epoch seconds `ageMs` ago (a position as ZITADEL would have written it then). */
function epochAgo(ageMs: number): number {
  return (Date.now() - ageMs) / 1000;
}

/** A request written `ageMs` ago: created_at and position both in the past. */
function oldRequest(h: Harness, user: DemoUser, ageMs: number): Promise<string> {
  return requestNotification(h.db.pool, user, {}, { createdAt: new Date(Date.now() - ageMs), position: epochAgo(ageMs) });
}

describe('requests older than MaxTtl when herald first sees them', () => {
  it('cancels one written 2 minutes before start (MaxTtl 30s) with an error text, and delivers a fresh one', async () => {
    const h = await harness();
    const sink: SmtpSink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const instanceId = newId();
    const stale = await seedUser(h.db.pool, { instanceId, email: 'stale@example.com' });
    const fresh = await seedUser(h.db.pool, { instanceId, email: 'fresh@example.com' });
    const staleId = await oldRequest(h, stale, 120_000);
    const freshId = await requestNotification(h.db.pool, fresh);

    const cfg = h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', ZITADEL_NOTIFICATIONS_MAXTTL: '30s' });
    // The producer's own timers, as `herald start` runs it: no pass is called by hand.
    await h.start(cfg, ['all'], { producerLoops: true });

    const done = (id: string) => waitUntil(() => finishedAs(h.db.pool, instanceId, id), { what: `notification ${id} finished` });
    expect(await done(freshId)).toBe('notification.sent');
    expect(await done(staleId)).toBe('notification.canceled');
    const events = await eventsOf(h.db.pool, instanceId, staleId);
    expect(events.map((e) => e.event_type)).toEqual(['notification.requested', 'notification.canceled']);
    expect((events[1]?.payload as { error?: unknown }).error).toMatch(/expired.*MaxTtl \(30s\)/);
    expect(sink.messages.map((m) => m.envelope.to)).toEqual([['fresh@example.com']]);
  });

  it('reads behind the window in bounded pages from a stored cursor that waits for the first pending one', async () => {
    const h = await harness();
    const connection = makeRedis(REDIS_URL, 'producer', silent);
    const queues = makeQueues({ connection, prefix: h.prefix, notifications: { maxAttempts: 3 }, logger: silent });
    cleanups.push(
      () => connection.quit(),
      () => queues.close(),
    );
    const cfg = h.config({ ZITADEL_NOTIFICATIONS_MAXTTL: '30s' }).notifications;
    const producer = makeProducer({ pool: h.db.pool, queues, cfg, logger: silent }, { listen: false, expiredPage: 2 });
    cleanups.push(() => producer.stop());

    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    // Oldest first: one finished long ago, five still pending, one whose retry is pending.
    const finished = await oldRequest(h, user, 10 * 60_000);
    await insertZitadelEvents(h.db.pool, [
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: finished,
        eventType: 'notification.sent',
        owner: user.orgId,
        payload: {},
        position: epochAgo(10 * 60_000 - 1),
      },
    ]);
    const pending: string[] = [];
    for (let i = 0; i < 5; i++) pending.push(await oldRequest(h, user, 5 * 60_000 - i * 1000));
    const retried = await oldRequest(h, user, 3 * 60_000);
    await insertZitadelEvents(h.db.pool, [
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: retried,
        eventType: 'notification.retry.requested',
        owner: user.orgId,
        payload: { backOff: 1e9 },
        createdAt: new Date(Date.now() - 170_000),
        position: epochAgo(170_000),
      },
    ]);
    const inWindow = await requestNotification(h.db.pool, user);

    const requestJob = (id: string) => queues.requests.getJob(jobIdFor(instanceId, id, 1));
    // One page of two rows: the finished request and the first pending one.
    expect(await producer.tickExpired(1)).toBe(1);
    expect(await requestJob(pending[0]!)).toBeDefined();
    expect(await requestJob(pending[1]!)).toBeUndefined();
    // The cursor stays before the first pending request: its job may yet be lost.
    expect(await loadCheckpoint(h.db.pool, 'producer.expired')).toBeDefined();
    await queues.requests.remove(jobIdFor(instanceId, pending[0]!, 1));
    expect(await producer.tickExpired(1)).toBe(2); // the page now starts at it: it and the next one
    const again = await requestJob(pending[0]!);
    expect(again?.opts.priority).toBe(2 ** 21 - 1); // never ahead of a deliverable request

    // Once it is finished, the next pass goes on from there.
    await insertZitadelEvents(h.db.pool, [
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: pending[0]!,
        eventType: 'notification.canceled',
        owner: user.orgId,
        payload: { error: 'x' },
      },
    ]);
    expect(await producer.tickExpired(2)).toBe(3);
    for (const id of pending.slice(1, 4)) expect(await requestJob(id)).toBeDefined();
    expect(await requestJob(pending[4]!)).toBeUndefined();
    expect(await producer.tickExpired(10)).toBe(5); // everything pending behind the window, again (idempotent ids)
    expect(await queues.retries.getJob(jobIdFor(instanceId, retried, 2))).toBeDefined();
    expect(await requestJob(retried)).toBeUndefined(); // its request is not pending: the retry is
    expect(await requestJob(inWindow)).toBeUndefined(); // inside MaxTtl: the windows' business
    expect(await requestJob(finished)).toBeUndefined();

    // herald reconcile (after losing Redis) offers them too.
    await queues.requests.obliterate({ force: true });
    await queues.retries.obliterate({ force: true });
    const offered = await producer.reconcile();
    expect(offered).toBe(6); // the one inside the window, and the five behind it
    for (const id of pending.slice(1)) expect(await requestJob(id)).toBeDefined();
    expect(await queues.retries.getJob(jobIdFor(instanceId, retried, 2))).toBeDefined();
  });
});
