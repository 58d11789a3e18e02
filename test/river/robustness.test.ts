/**
 * River mode under adverse input and topology: malformed rows, foreign rows, session OTPs,
 * duplicate rows for one trigger, ZITADEL's queue pause, two producers and two workers,
 * a Redis loss with `reconcile`, and both sources at once. Real Postgres, Redis and SMTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { main } from '../../src/cli.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { decodedBody } from '../helpers/mail.js';
import { dropPrefix } from '../helpers/redis.js';
import { riverRow as row } from '../helpers/river.js';
import { createRiverSchema, insertRiverJob, userArgs } from '../helpers/river.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { encryptCode, eventsOf, finishedAs, newId, requestNotification, seedUser } from '../helpers/zitadel.js';

let h: Harness;
let sink: SmtpSink;
const running: Herald[] = [];

beforeAll(async () => {
  h = await makeHarness();
  await createRiverSchema(h.db.pool);
});
afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((x) => x.stop()));
  await sink?.close();
});
afterAll(async () => {
  await h.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', HERALD_SOURCE: 'river', ...extra };
}

async function start(extra: Record<string, string> = {}, roles: Parameters<Harness['start']>[1] = ['all']) {
  const herald = await h.start(h.config(env(extra)), roles);
  running.push(herald);
  return herald;
}

function waitFinal(id: string) {
  return waitUntil(
    async () => {
      const r = await row(h.db.pool, id);
      return ['completed', 'cancelled', 'discarded'].includes(r.state) ? r : undefined;
    },
    { what: `River job ${id} finished` },
  );
}

describe('River mode robustness', () => {
  it('cancels malformed rows with a clear error, leaves foreign rows alone, and keeps delivering', async () => {
    sink = await startSmtpSink();
    const herald = await start();
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const good = userArgs(user, { code: encryptCode('424242') });
    const bad: [unknown, RegExp][] = [
      [[1, 2, 3], /args must be a JSON object/],
      ['a string', /args must be a JSON object/],
      [{ ...good, userID: 42 }, /args\.userID: .*string/i],
      [{ ...good, messageType: 'Nope' }, /args\.messageType: must be one of InitCode/],
      [{ ...good, notificationType: 7 }, /args\.notificationType: must be 0 \(email\) or 1 \(SMS\)/],
      [{ ...good, code: { CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey' } }, /args\.code\.Crypted/],
      [{ ...good, code: { CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey', Crypted: '!!not base64!!' } }, /JobCancelError: /],
      [{ ...good, code: { ...encryptCode('1'), KeyID: 'no-such-key' } }, /no-such-key/],
      [{ ...good, aggregate: null }, /args\.aggregate/],
      [
        { ...good, eventType: 'user.initialization.code.added' },
        /^JobCancelError: no sent handler registered for user\.initialization\.code\.added$/,
      ],
      [{ ...good, triggeredAtOrigin: 'javascript:alert(1)' }, /triggeredAtOrigin/],
    ];
    const ids = [];
    for (const [args] of bad) ids.push(await insertRiverJob(h.db.pool, args));
    const foreignKind = await insertRiverJob(h.db.pool, good, { kind: 'other_kind' });
    const foreignQueue = await insertRiverJob(h.db.pool, good, { queue: 'default' });
    const ok = await insertRiverJob(h.db.pool, good);
    await herald.river?.producer?.tick();
    for (const [i, [, reason]] of bad.entries()) {
      const r = await waitFinal(ids[i]!);
      expect({ i, state: r.state }).toEqual({ i, state: 'cancelled' });
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]?.error).toMatch(/^JobCancelError: /);
      expect(r.errors?.[0]?.error).toMatch(reason);
    }
    expect((await waitFinal(ok)).state).toBe('completed');
    for (const id of [foreignKind, foreignQueue]) {
      const r = await row(h.db.pool, id);
      expect(r).toMatchObject({ state: 'available', attempt: 0, attempted_by: null, errors: null });
    }
    await sink.waitFor(1);
    expect(sink.messages).toHaveLength(1);
  });

  it('sends a session OTP and writes the session sent event', async () => {
    sink = await startSmtpSink();
    const herald = await start();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, email: 'otp@example.com' });
    const sessionId = newId();
    await insertZitadelEvents(h.db.pool, [
      { instanceId, aggregateType: 'session', aggregateId: sessionId, owner: instanceId, eventType: 'session.added', payload: {} },
      {
        instanceId,
        aggregateType: 'session',
        aggregateId: sessionId,
        owner: instanceId,
        eventType: 'session.otp.email.challenged',
        payload: { code: encryptCode('918273') },
      },
    ]);
    const id = await insertRiverJob(
      h.db.pool,
      userArgs(user, {
        aggregate: { id: sessionId, type: 'session', resourceOwner: instanceId, instanceId, version: 'v1' },
        eventType: 'session.otp.email.challenged',
        messageType: 'VerifyEmailOTP',
        isOTP: true,
        code: encryptCode('918273'),
        args: { sessionID: sessionId, origin: 'https://auth.example.com', domain: 'auth.example.com', expiry: 300_000_000_000 },
      }),
    );
    await herald.river?.producer?.tick();
    expect((await waitFinal(id)).state).toBe('completed');
    const [mail] = await sink.waitFor(1);
    expect(mail?.envelope.to).toEqual(['otp@example.com']);
    expect(decodedBody(mail!)).toContain('918273');
    const session = await eventsOf(h.db.pool, instanceId, sessionId);
    expect(session.at(-1)).toMatchObject({ event_type: 'session.otp.email.sent', payload: {}, owner: instanceId, revision: 1 });
  });

  it('sends once for two rows queued for one trigger, also when two workers take them at once', async () => {
    sink = await startSmtpSink({ acceptDelayMs: () => 300 });
    const a = await start({ ZITADEL_NOTIFICATIONS_WORKERS: '4' });
    await start({ ZITADEL_NOTIFICATIONS_WORKERS: '4' }, ['worker']);
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const args = userArgs(user, { code: encryptCode('777000') });
    const first = await insertRiverJob(h.db.pool, args);
    const second = await insertRiverJob(h.db.pool, args);
    await a.river?.producer?.tick();
    const states = [(await waitFinal(first)).state, (await waitFinal(second)).state];
    expect(states).toEqual(['completed', 'completed']);
    await sink.waitFor(1);
    const sentEvents = (await eventsOf(h.db.pool, user.instanceId, user.userId)).filter(
      (e) => e.event_type === 'user.human.initialization.code.sent',
    );
    expect(sentEvents).toHaveLength(1);
    expect(sink.attempts).toBe(1);
  });

  it('sends both of two password-change rows (no code: a repeat is a new notification)', async () => {
    sink = await startSmtpSink();
    const herald = await start();
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const change = {
      instanceId: user.instanceId,
      aggregateType: 'user',
      aggregateId: user.userId,
      owner: user.orgId,
      eventType: 'user.human.password.changed',
      payload: {},
    };
    const args = userArgs(user, { eventType: 'user.human.password.changed', messageType: 'PasswordChange' });
    await insertZitadelEvents(h.db.pool, [change]);
    const first = await insertRiverJob(h.db.pool, args);
    await herald.river?.producer?.tick();
    expect((await waitFinal(first)).state).toBe('completed');
    await insertZitadelEvents(h.db.pool, [change]);
    const second = await insertRiverJob(h.db.pool, args);
    await herald.river?.producer?.tick();
    expect((await waitFinal(second)).state).toBe('completed');
    await sink.waitFor(2);
  });

  it("pauses ZITADEL's queue with River's control NOTIFY and keeps an earlier pause", async () => {
    sink = await startSmtpSink();
    const listener = await h.db.pool.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => {
      if (n.channel === 'queue.river_control' && n.payload) payloads.push(n.payload);
    });
    await listener.query('LISTEN "queue.river_control"');
    try {
      await h.db.pool.query(`DELETE FROM queue.river_queue WHERE name = 'notification'`);
      const herald = await start({}, ['producer']);
      await herald.river?.producer?.start();
      const paused = await h.db.pool.query(`SELECT paused_at, updated_at FROM queue.river_queue WHERE name = 'notification'`);
      expect(paused.rows[0]?.paused_at).toBeInstanceOf(Date);
      await waitUntil(() => payloads.length > 0);
      expect(JSON.parse(payloads[0]!)).toEqual({ action: 'pause', queue: 'notification' });
      // An earlier pause is kept (River's QueuePause keeps paused_at).
      const before = paused.rows[0]?.paused_at as Date;
      await herald.river?.producer?.stop();
      await (await start({}, ['producer'])).river?.producer?.start();
      const again = await h.db.pool.query(`SELECT paused_at FROM queue.river_queue WHERE name = 'notification'`);
      expect((again.rows[0]?.paused_at as Date).getTime()).toBe(before.getTime());
    } finally {
      listener.release();
    }
  });

  it('two producers and two workers work every row exactly once', async () => {
    sink = await startSmtpSink();
    // 20 mails of one type per user: the flood guard (HERALD_RECIPIENT_LIMIT, 10/10m) is off here.
    const p1 = await start({ ZITADEL_NOTIFICATIONS_WORKERS: '8', HERALD_RECIPIENT_LIMIT: '0' });
    const p2 = await start({ ZITADEL_NOTIFICATIONS_WORKERS: '8', HERALD_RECIPIENT_LIMIT: '0' });
    const instances = [newId(), newId(), newId()];
    const users = await Promise.all(instances.map((instanceId) => seedUser(h.db.pool, { instanceId })));
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push(await insertRiverJob(h.db.pool, userArgs(users[i % 3]!, { code: encryptCode(`Q${i}Z`) })));
    await Promise.all([p1.river?.producer?.tick(), p2.river?.producer?.tick(), p1.river?.producer?.tick(), p2.river?.producer?.tick()]);
    for (const id of ids) {
      const r = await waitFinal(id);
      expect(r).toMatchObject({ state: 'completed', attempt: 1 });
      expect(r.attempted_by).toHaveLength(1);
    }
    await sink.waitFor(60, 15_000);
    expect(sink.attempts).toBe(60);
    const bodies = sink.messages.map((m) => decodedBody(m));
    for (let i = 0; i < 60; i++) expect(bodies.filter((b) => b.includes(`Q${i}Z`))).toHaveLength(1);
  });

  it('takes back claimed rows after a Redis loss with herald reconcile', async () => {
    sink = await startSmtpSink();
    const producer = await start({}, ['producer']);
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await insertRiverJob(h.db.pool, userArgs(user, { code: encryptCode(`R${i}`) })));
    expect(await producer.river?.producer?.tick()).toBe(5);
    for (const id of ids) expect((await row(h.db.pool, id)).state).toBe('running');
    await producer.stop();
    await dropPrefix(h.prefix);
    const code = await main(['reconcile'], {
      DATABASE_URL: h.db.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      HERALD_QUEUE_PREFIX: h.prefix,
      HERALD_SOURCE: 'river',
      LOG_LEVEL: 'silent',
    });
    expect(code).toBe(0);
    await start({}, ['worker']);
    for (const id of ids) expect(await waitFinal(id)).toMatchObject({ state: 'completed', attempt: 1 });
    await sink.waitFor(5);
    expect(sink.attempts).toBe(5);
  });

  it('serves events and River jobs at once (HERALD_SOURCE=events,river)', async () => {
    sink = await startSmtpSink();
    const herald = await start({ HERALD_SOURCE: 'events,river' });
    const user = await seedUser(h.db.pool, { instanceId: newId() });
    const notification = await requestNotification(h.db.pool, user, {}, { code: 'EVT111' });
    const job = await insertRiverJob(h.db.pool, userArgs(user, { code: encryptCode('RIV222') }));
    await herald.producer?.tickRequests();
    await herald.river?.producer?.tick();
    expect((await waitFinal(job)).state).toBe('completed');
    expect(await waitUntil(() => finishedAs(h.db.pool, user.instanceId, notification))).toBe('notification.sent');
    const bodies = (await sink.waitFor(2)).map((m) => decodedBody(m)).join('\n');
    expect(bodies).toContain('EVT111');
    expect(bodies).toContain('RIV222');
  });
});
