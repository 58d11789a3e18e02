/**
 * End to end: notification.requested rows written as ZITADEL writes them → producer →
 * BullMQ → worker → real SMTP sink → events written back. Real Postgres, Redis and SMTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { decodedBody } from '../helpers/mail.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { eventsOf, finishedAs, newId, requestFor, requestNotification, seedUser } from '../helpers/zitadel.js';

let h: Harness;
let sink: SmtpSink | undefined;
let herald: Herald | undefined;

beforeAll(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
  await sink?.close();
  sink = undefined;
});
afterAll(async () => {
  await h.close();
});

async function run(env: Record<string, string> = {}, failWith?: Parameters<typeof startSmtpSink>[0]) {
  sink = await startSmtpSink(failWith);
  const cfg = h.config({
    SMTP_URL: sink.url,
    SMTP_FROM: 'herald@example.com',
    ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '50ms',
    ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '200ms',
    ...env,
  });
  herald = await h.start(cfg);
  return { sink, herald, cfg };
}

function waitFinished(instanceId: string, aggregateId: string) {
  return waitUntil(() => finishedAs(h.db.pool, instanceId, aggregateId), { what: `notification ${aggregateId} finished` });
}

describe('delivery', () => {
  it('delivers one mail with the decrypted code and link, and writes the sent events', async () => {
    const { sink, herald } = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, email: 'ada@example.com' });
    const id = await requestNotification(h.db.pool, user, {}, { code: 'K7Q9ZX' });
    await herald.producer?.tickRequests();
    const [mail] = await sink.waitFor(1);
    expect(mail?.envelope.to).toEqual(['ada@example.com']);
    const body = decodedBody(mail!);
    expect(body).toContain('K7Q9ZX');
    expect(body).toContain(`https://auth.example.com/ui/login/user/init?userID=${user.userId}&amp;code=K7Q9ZX&amp;orgID=${user.orgId}`);
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    const notification = await eventsOf(h.db.pool, instanceId, id);
    expect(notification.map((e) => [e.event_type, e.sequence])).toEqual([
      ['notification.requested', '1'],
      ['notification.sent', '2'],
    ]);
    expect(notification[1]).toMatchObject({ payload: {}, owner: user.orgId, revision: 1, aggregate_type: 'notification' });
    const userEvents = await eventsOf(h.db.pool, instanceId, user.userId);
    expect(userEvents.at(-1)).toMatchObject({
      event_type: 'user.human.initialization.code.sent',
      sequence: String(userEvents.length),
      payload: null,
      owner: user.orgId,
    });
  });

  it('cancels an expired request without sending it', async () => {
    const { sink, herald, cfg } = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = await requestNotification(h.db.pool, user, {}, { createdAt: new Date(Date.now() - cfg.notifications.maxTtlMs - 60_000) });
    await herald.producer?.tickRequests();
    expect(await waitFinished(instanceId, id)).toBe('notification.canceled');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect((events.at(-1)?.payload as { error: string }).error).toMatch(/MaxTtl/);
    expect(sink.attempts).toBe(0);
  });

  it('retries a 4xx with a retry event inside the backoff bounds, then delivers', async () => {
    const { sink, herald } = await run({}, { failWith: (n) => (n === 1 ? { code: 451, message: 'try later' } : undefined) });
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = await requestNotification(h.db.pool, user);
    await herald.producer?.tickRequests();
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect(events.map((e) => e.event_type)).toEqual(['notification.requested', 'notification.retry.requested', 'notification.sent']);
    const retry = events[1]?.payload as { backOff: number; error: string; notifyUser: { VerifiedEmail: string }; request: { userID: string } };
    expect(retry.backOff).toBeGreaterThanOrEqual(50_000_000);
    expect(retry.backOff).toBeLessThan(75_000_000); // [min, 1.5·min)
    expect(retry.error).toMatch(/451/);
    expect(retry.notifyUser.VerifiedEmail).toBe(user.email);
    expect(retry.request.userID).toBe(user.userId);
    expect(sink.attempts).toBe(2);
    expect(sink.messages).toHaveLength(1);
  });

  it('cancels after exactly MaxAttempts SMTP attempts', async () => {
    const { sink, herald } = await run({ ZITADEL_NOTIFICATIONS_MAXATTEMPTS: '3' }, { failWith: () => ({ code: 421, message: 'busy' }) });
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = await requestNotification(h.db.pool, user);
    await herald.producer?.tickRequests();
    expect(await waitFinished(instanceId, id)).toBe('notification.canceled');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect(events.map((e) => e.event_type)).toEqual([
      'notification.requested',
      'notification.retry.requested',
      'notification.retry.requested',
      'notification.canceled',
    ]);
    expect(sink.attempts).toBe(3);
    const [, first, second] = events.map((e) => (e.payload as { backOff?: number }).backOff ?? 0);
    expect(second).toBeGreaterThanOrEqual(first!); // current grows from the previous delay
  });

  it('cancels permanent failures while other mail keeps flowing', async () => {
    const { sink, herald } = await run(
      {},
      { failWith: (_n, mail) => (mail.envelope.to.includes('bounce@example.com') ? { code: 550, message: 'no such user' } : undefined) },
    );
    const instanceId = newId();
    const good = await seedUser(h.db.pool, { instanceId, email: 'good@example.com' });
    const bouncing = await seedUser(h.db.pool, { instanceId, email: 'bounce@example.com' });
    const unverified = await seedUser(h.db.pool, { instanceId, verified: false });
    const ghost = { instanceId, orgId: newId(), userId: newId(), email: '' };
    const ids = {
      bounce: await requestNotification(h.db.pool, bouncing),
      unknownUser: await requestNotification(h.db.pool, ghost),
      noAddress: await requestNotification(h.db.pool, unverified),
      unknownKey: await requestNotification(h.db.pool, good, {
        code: { CryptoType: 0, Algorithm: 'aes', KeyID: 'nope', Crypted: 'AAECAwQFBgcICQoLDA0OD1Qru7aOPw==' },
      }),
      good: await requestNotification(h.db.pool, good),
    };
    await herald.producer?.tickRequests();
    const outcomes = Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([k, id]) => [k, await waitFinished(instanceId, id)] as const)),
    );
    expect(outcomes).toEqual({
      bounce: 'notification.canceled',
      unknownUser: 'notification.canceled',
      noAddress: 'notification.canceled',
      unknownKey: 'notification.canceled',
      good: 'notification.sent',
    });
    const errorOf = async (id: string) => ((await eventsOf(h.db.pool, instanceId, id)).at(-1)?.payload as { error: string }).error;
    expect(await errorOf(ids.bounce)).toMatch(/550/);
    expect(await errorOf(ids.unknownUser)).toMatch(/not found/);
    expect(await errorOf(ids.noAddress)).toMatch(/no verified email/);
    expect(await errorOf(ids.unknownKey)).toMatch(/nope/);
    expect(sink.messages.map((m) => m.envelope.to[0])).toEqual(['good@example.com']);
    expect(sink.attempts).toBe(2); // the bounce once, the good one once
  });

  it('leaves an already finished request untouched', async () => {
    const { sink, herald } = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = newId();
    await insertZitadelEvents(h.db.pool, [
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: id,
        eventType: 'notification.requested',
        owner: user.orgId,
        payload: { request: requestFor(user) },
      },
      { instanceId, aggregateType: 'notification', aggregateId: id, eventType: 'notification.sent', owner: user.orgId, payload: {} },
    ]);
    await herald.producer?.tickRequests();
    await herald.producer?.sweep();
    expect(await herald.queues.requests.getJobCounts()).toMatchObject({ waiting: 0, active: 0, delayed: 0, prioritized: 0 });
    expect((await eventsOf(h.db.pool, instanceId, id)).length).toBe(2);
    expect(sink.attempts).toBe(0);
  });

  it('delivers a ZITADEL-written retry event to the address in its snapshot', async () => {
    const { sink, herald } = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, email: 'current@example.com' });
    const id = newId();
    const request = requestFor(user, { eventType: 'user.human.password.code.added', messageType: 'PasswordReset' }, '424242');
    const snapshot = {
      ID: user.userId,
      CreationDate: new Date().toISOString(),
      ChangeDate: new Date().toISOString(),
      ResourceOwner: user.orgId,
      Sequence: 2,
      State: 1,
      Type: 1,
      Username: 'snap',
      LoginNames: ['snap'],
      PreferredLoginName: 'snap',
      FirstName: 'Snap',
      LastName: 'Shot',
      NickName: '',
      DisplayName: 'Snap Shot',
      AvatarKey: '',
      PreferredLanguage: 'de',
      Gender: 0,
      LastEmail: 'snapshot@example.com',
      VerifiedEmail: 'snapshot@example.com',
      LastPhone: '',
      VerifiedPhone: '',
      PasswordSet: true,
    };
    await insertZitadelEvents(h.db.pool, [
      { instanceId, aggregateType: 'notification', aggregateId: id, eventType: 'notification.requested', owner: user.orgId, payload: { request } },
      {
        instanceId,
        aggregateType: 'notification',
        aggregateId: id,
        eventType: 'notification.retry.requested',
        owner: user.orgId,
        payload: { request, error: 'smtp down', notifyUser: snapshot, backOff: 0 },
      },
    ]);
    await herald.producer?.tickRetries();
    const [mail] = await sink.waitFor(1);
    expect(mail?.envelope.to).toEqual(['snapshot@example.com']);
    expect(decodedBody(mail!)).toContain('424242');
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    const userEvents = await eventsOf(h.db.pool, instanceId, user.userId);
    expect(userEvents.at(-1)).toMatchObject({ event_type: 'user.human.password.code.sent', payload: { generatorInfo: {} } });
  });
});
