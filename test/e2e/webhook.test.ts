/**
 * End to end over the HTTP webhook channel, as the email and as the SMS provider: requests
 * written as ZITADEL writes them → producer → BullMQ → worker → a local HTTP server →
 * events written back. Checks the body, the HMAC signature and the outcome per answer.
 */
import { createHmac } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Herald } from '../../src/app.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type HttpSink, type HttpSinkOptions, startHttpSink } from '../helpers/http-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { type DemoUser, eventsOf, finishedAs, newId, requestFor, requestNotification, seedUser } from '../helpers/zitadel.js';

const SIGNING_KEY = 'whsec-herald-e2e-0123456789';

let h: Harness;
let sink: HttpSink | undefined;
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

async function run(respond?: HttpSinkOptions['respond']) {
  sink = await startHttpSink(respond ? { respond } : {});
  const cfg = h.config({
    HERALD_EMAIL_PROVIDER: 'webhook',
    HERALD_SMS_PROVIDER: 'webhook',
    HERALD_WEBHOOK_URL: sink.url,
    HERALD_WEBHOOK_SIGNING_KEY: SIGNING_KEY,
    HERALD_WEBHOOK_TIMEOUT: '300ms',
    ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '50ms',
    ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '200ms',
  });
  herald = await h.start(cfg);
  return { sink, herald };
}

function waitFinished(instanceId: string, aggregateId: string) {
  return waitUntil(() => finishedAs(h.db.pool, instanceId, aggregateId), { what: `notification ${aggregateId} finished` });
}

/** Checks the signature the way a receiver would: HMAC-SHA256 over "<t>.<raw body>". */
function verifySignature(header: string | string[] | undefined, body: string): number {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(header));
  expect(m, `signature header ${String(header)}`).not.toBeNull();
  const [, t, mac] = m!;
  expect(mac).toBe(createHmac('sha256', SIGNING_KEY).update(`${t}.${body}`).digest('hex'));
  return Number(t);
}

async function requestPhoneCode(user: DemoUser, code: string): Promise<string> {
  const id = newId();
  const request = requestFor(
    user,
    { eventType: 'user.human.phone.code.added', messageType: 'VerifyPhone', notificationType: 1, urlTemplate: undefined },
    code,
  );
  await insertZitadelEvents(h.db.pool, [
    {
      instanceId: user.instanceId,
      aggregateType: 'notification',
      aggregateId: id,
      eventType: 'notification.requested',
      owner: user.orgId,
      payload: { request },
    },
  ]);
  return id;
}

describe('webhook channel', () => {
  it('as email provider: posts the rendered mail, signed, and writes the sent events', async () => {
    const { sink, herald } = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, email: 'ada@example.com', displayName: 'Ada L.' });
    const before = Math.floor(Date.now() / 1000);
    const id = await requestNotification(h.db.pool, user, {}, { code: 'K7Q9ZX' });
    await herald.producer?.tickRequests();
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');

    expect(sink.requests).toHaveLength(1);
    const req = sink.requests[0]!;
    expect(req).toMatchObject({ method: 'POST', path: '/hook' });
    expect(req.headers['content-type']).toBe('application/json');
    expect(verifySignature(req.headers['x-herald-signature'], req.body)).toBeGreaterThanOrEqual(before);
    const body = JSON.parse(req.body) as {
      contextInfo: Record<string, unknown>;
      templateData: { subject: string; text: string; html: string };
      args: unknown;
    };
    expect(body.contextInfo).toEqual({
      recipientEmailAddress: 'ada@example.com',
      eventType: 'notification.requested',
      provider: { id: 'herald-webhook', description: 'herald webhook' },
      messageType: 'InitCode',
      notificationId: id,
      instanceId,
    });
    expect(body.templateData.subject).toBe('Set up your account');
    expect(body.templateData.text).toContain('Hello Ada L.,');
    expect(body.templateData.text).toContain('K7Q9ZX');
    expect(body.templateData.html).toContain(`userID=${user.userId}&amp;code=K7Q9ZX`);
    expect(body.args).toEqual({});
    expect((await eventsOf(h.db.pool, instanceId, user.userId)).at(-1)).toMatchObject({
      event_type: 'user.human.initialization.code.sent',
    });
  });

  it('as SMS provider: posts the text for the phone number and writes user.human.phone.code.sent', async () => {
    const { sink, herald } = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, phone: '+4915112345678' });
    const id = await requestPhoneCode(user, '482913');
    await herald.producer?.tickRequests();
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    const req = sink.requests[0]!;
    verifySignature(req.headers['x-herald-signature'], req.body);
    expect(JSON.parse(req.body)).toEqual({
      contextInfo: {
        recipientPhoneNumber: '+4915112345678',
        eventType: 'notification.requested',
        provider: { id: 'herald-webhook', description: 'herald webhook' },
        messageType: 'VerifyPhone',
        notificationId: id,
        instanceId,
      },
      templateData: { text: 'Your phone verification code: 482913' },
      args: {},
    });
    expect((await eventsOf(h.db.pool, instanceId, user.userId)).at(-1)).toMatchObject({
      event_type: 'user.human.phone.code.sent',
      payload: { generatorInfo: {} },
    });
  });

  it('retries a 503 (retry event), then delivers', async () => {
    const { sink, herald } = await run((n) => (n === 1 ? { status: 503 } : { status: 204 }));
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = await requestNotification(h.db.pool, user);
    await herald.producer?.tickRequests();
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect(events.map((e) => e.event_type)).toEqual(['notification.requested', 'notification.retry.requested', 'notification.sent']);
    expect((events[1]?.payload as { error: string }).error).toBe('webhook answered 503');
    expect(sink.requests).toHaveLength(2);
    // Same notification both times: a receiver can deduplicate on notificationId.
    const ids = sink.requests.map((r) => (JSON.parse(r.body) as { contextInfo: { notificationId: string } }).contextInfo.notificationId);
    expect(ids).toEqual([id, id]);
  });

  it('cancels on 400 without retrying', async () => {
    const { sink, herald } = await run(() => ({ status: 400, body: 'bad recipient' }));
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, phone: '+4915112345678' });
    const id = await requestPhoneCode(user, '111222');
    await herald.producer?.tickRequests();
    expect(await waitFinished(instanceId, id)).toBe('notification.canceled');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect(events.map((e) => e.event_type)).toEqual(['notification.requested', 'notification.canceled']);
    expect((events[1]?.payload as { error: string }).error).toBe('webhook rejected the notification with 400');
    expect(sink.requests).toHaveLength(1);
  });

  it('gives up on a receiver that does not answer within HERALD_WEBHOOK_TIMEOUT and retries', async () => {
    const { sink, herald } = await run((n) => (n === 1 ? 'hang' : { status: 200 }));
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = await requestNotification(h.db.pool, user);
    const started = Date.now();
    await herald.producer?.tickRequests();
    await sink.waitForHangup();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect(events.map((e) => e.event_type)).toEqual(['notification.requested', 'notification.retry.requested', 'notification.sent']);
    expect((events[1]?.payload as { error: string }).error).toBe('webhook did not answer within 300 ms');
    expect(sink.requests).toHaveLength(2);
  });
});
