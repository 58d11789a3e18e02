/**
 * End to end over Amazon SNS: requests written as ZITADEL writes them → herald as a real
 * child process (`herald start`) → the real SNSClient → a local endpoint speaking SNS's
 * query protocol. Region, endpoint and credentials reach the SDK only through its own
 * environment variables (AWS_REGION, AWS_ENDPOINT_URL_SNS, AWS_ACCESS_KEY_ID/SECRET), the
 * path a deployment uses; herald never sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REDIS_URL } from '../helpers/env.js';
import { insertZitadelEvents } from '../helpers/events.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { INVALID_PARAMETER, type SnsEndpoint, type SnsRequest, startSnsEndpoint, THROTTLING } from '../helpers/sns-endpoint.js';
import { type HeraldProcess, spawnHerald } from '../helpers/spawn.js';
import { waitUntil } from '../helpers/wait.js';
import { type DemoUser, encryptCode, eventsOf, finishedAs, KEYS_ENV, newId, requestFor, seedUser } from '../helpers/zitadel.js';

const THROTTLED_PHONE = '+15550002222';
const REJECTED_PHONE = '+15550001111';

let h: Harness;
let endpoint: SnsEndpoint;
let herald: HeraldProcess;
const throttledOnce = new Set<string>();

beforeAll(async () => {
  h = await makeHarness();
  endpoint = await startSnsEndpoint({
    failWith: (_n, req) => {
      if (req.phoneNumber === REJECTED_PHONE) return INVALID_PARAMETER;
      // The first publish to this number is throttled, the next one goes through.
      if (req.phoneNumber === THROTTLED_PHONE && !throttledOnce.has(req.message ?? '')) {
        throttledOnce.add(req.message ?? '');
        return THROTTLING;
      }
      return undefined;
    },
  });
  herald = spawnHerald(['start', '--role', 'all'], {
    DATABASE_URL: h.db.url,
    REDIS_URL,
    HERALD_QUEUE_PREFIX: h.prefix,
    HERALD_ENCRYPTION_KEYS: KEYS_ENV,
    HERALD_SMS_PROVIDER: 'sns',
    HERALD_SNS_SENDER_ID: 'Herald',
    HERALD_SNS_SMS_TYPE: 'Transactional',
    HERALD_HTTP_PORT: '0',
    AWS_REGION: 'eu-central-1',
    AWS_ENDPOINT_URL_SNS: endpoint.url,
    AWS_ACCESS_KEY_ID: 'AKIDHERALDTEST',
    AWS_SECRET_ACCESS_KEY: 'herald-test-secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    ZITADEL_NOTIFICATIONS_REQUEUEEVERY: '100ms',
    ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '50ms',
    ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '200ms',
    LOG_LEVEL: 'warn',
  });
});
afterAll(async () => {
  const code = await herald.stop('SIGTERM');
  await endpoint.close();
  await h.close();
  expect(code, herald.output()).toBe(0);
  // Codes never reach the logs (the warnings above include every failed send).
  expect(herald.output()).not.toMatch(/482913|735102|660011|909090|123123|314159/);
});

function waitFinished(instanceId: string, aggregateId: string) {
  return waitUntil(() => finishedAs(h.db.pool, instanceId, aggregateId), {
    what: `notification ${aggregateId} finished`,
    timeoutMs: 20_000,
  });
}

function requestsTo(phone: string): SnsRequest[] {
  return endpoint.requests.filter((r) => r.phoneNumber === phone);
}

/** A phone-code request (user.human.phone.code.added → VerifyPhone), as ZITADEL's user notifier writes it. */
async function requestPhoneCode(user: DemoUser, code: string): Promise<string> {
  const id = newId();
  const request = requestFor(
    user,
    {
      eventType: 'user.human.phone.code.added',
      messageType: 'VerifyPhone',
      notificationType: 1,
      urlTemplate: undefined,
      args: { origin: 'https://auth.example.com' },
    },
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

describe('SMS over Amazon SNS', () => {
  it('sends VerifyPhone with number, text, attributes, and writes user.human.phone.code.sent', async () => {
    const instanceId = newId();
    const phone = '+4915112345678';
    const user = await seedUser(h.db.pool, { instanceId, phone });
    const id = await requestPhoneCode(user, '482913');
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');

    const [req, ...more] = requestsTo(phone);
    expect(more).toEqual([]);
    expect(req).toMatchObject({
      action: 'Publish',
      version: '2010-03-31',
      phoneNumber: phone,
      message: 'Your phone verification code: 482913',
      attributes: {
        'AWS.SNS.SMS.SMSType': { dataType: 'String', stringValue: 'Transactional' },
        'AWS.SNS.SMS.SenderID': { dataType: 'String', stringValue: 'Herald' },
      },
    });
    // The SDK signed with the credentials and region from its own environment variables.
    expect(String(req?.headers.authorization)).toContain('Credential=AKIDHERALDTEST/');
    expect(String(req?.headers.authorization)).toContain('/eu-central-1/sns/aws4_request');

    const userEvents = await eventsOf(h.db.pool, instanceId, user.userId);
    expect(userEvents.at(-1)).toMatchObject({
      event_type: 'user.human.phone.code.sent',
      aggregate_type: 'user',
      payload: { generatorInfo: {} },
      owner: user.orgId,
      revision: 2,
    });
  });

  it('sends a session OTP (VerifySMSOTP, isOTP) and writes session.otp.sms.sent on the session', async () => {
    const instanceId = newId();
    const phone = '+41791234567';
    const user = await seedUser(h.db.pool, { instanceId, phone });
    const sessionId = newId();
    const code = encryptCode('735102');
    const session = { instanceId, aggregateType: 'session', aggregateId: sessionId, owner: instanceId };
    await insertZitadelEvents(h.db.pool, [
      { ...session, eventType: 'session.added', payload: { userAgent: { description: 'test' } } },
      {
        ...session,
        eventType: 'session.user.checked',
        payload: { userID: user.userId, userResourceOwner: user.orgId, checkedAt: new Date().toISOString() },
      },
      { ...session, eventType: 'session.otp.sms.challenged', payload: { code, expiry: 300_000_000_000, codeReturned: false } },
    ]);
    const id = newId();
    const request = {
      ...requestFor(user),
      notificationAggregateID: sessionId,
      notificationAggregateResourceOwner: instanceId,
      eventType: 'session.otp.sms.challenged',
      messageType: 'VerifySMSOTP',
      notificationType: 1,
      urlTemplate: undefined,
      code,
      isOTP: true,
      args: { origin: 'https://auth.example.com', domain: 'auth.example.com', expiry: 300_000_000_000, sessionID: sessionId },
    };
    await insertZitadelEvents(h.db.pool, [
      { instanceId, aggregateType: 'notification', aggregateId: id, eventType: 'notification.requested', owner: user.orgId, payload: { request } },
    ]);
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');

    expect(requestsTo(phone).map((r) => r.message)).toEqual([
      '735102 is your sign-in code for auth.example.com. It expires in 5m0s.\n\n@auth.example.com #735102',
    ]);
    const sessionEvents = await eventsOf(h.db.pool, instanceId, sessionId);
    expect(sessionEvents.map((e) => e.event_type)).toEqual([
      'session.added',
      'session.user.checked',
      'session.otp.sms.challenged',
      'session.otp.sms.sent',
    ]);
    expect(sessionEvents.at(-1)).toMatchObject({ aggregate_type: 'session', payload: { generatorInfo: {} }, owner: instanceId, revision: 1 });
    // Nothing lands on the user for a session trigger.
    expect((await eventsOf(h.db.pool, instanceId, user.userId)).map((e) => e.event_type)).not.toContain('user.human.phone.code.sent');
  });

  it('waits out SNS throttling without using an attempt (no retry event), then delivers', async () => {
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, phone: THROTTLED_PHONE });
    const id = await requestPhoneCode(user, '660011');
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    const events = await eventsOf(h.db.pool, instanceId, id);
    // Throttling is the provider's state, not the message's: the notification's attempts are untouched.
    expect(events.map((e) => e.event_type)).toEqual(['notification.requested', 'notification.sent']);
    expect(requestsTo(THROTTLED_PHONE).map((r) => r.message)).toEqual([
      'Your phone verification code: 660011',
      'Your phone verification code: 660011',
    ]);
  });

  it('cancels on InvalidParameter without retrying, and keeps the number out of the error', async () => {
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId, phone: REJECTED_PHONE });
    const id = await requestPhoneCode(user, '909090');
    expect(await waitFinished(instanceId, id)).toBe('notification.canceled');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect(events.map((e) => e.event_type)).toEqual(['notification.requested', 'notification.canceled']);
    const { error } = events[1]?.payload as { error: string };
    expect(error).toMatch(/^SNS rejected the SMS: InvalidParameter/);
    expect(error).not.toContain('5550001111');
    expect(requestsTo(REJECTED_PHONE)).toHaveLength(1);
  });

  it('cancels an invalid phone number without any request to SNS', async () => {
    const instanceId = newId();
    const bad = '0151 1234 567';
    const user = await seedUser(h.db.pool, { instanceId, phone: bad });
    const before = endpoint.requests.length;
    const id = await requestPhoneCode(user, '123123');
    expect(await waitFinished(instanceId, id)).toBe('notification.canceled');
    const events = await eventsOf(h.db.pool, instanceId, id);
    expect((events.at(-1)?.payload as { error: string }).error).toMatch(/not an E\.164 phone number/);
    expect(endpoint.requests.slice(before).filter((r) => r.phoneNumber === bad || r.message?.includes('123123'))).toEqual([]);
  });

  it('uses the organisation’s custom text in the user’s language', async () => {
    const instanceId = newId();
    const phone = '+4917099887766';
    const user = await seedUser(h.db.pool, { instanceId, phone, language: 'de' });
    const org = { instanceId, aggregateType: 'org', aggregateId: user.orgId, owner: user.orgId, creator: 'admin' };
    const inst = { instanceId, aggregateType: 'instance', aggregateId: instanceId, owner: instanceId, creator: 'admin' };
    await insertZitadelEvents(h.db.pool, [
      {
        ...inst,
        eventType: 'instance.customtext.set',
        payload: { template: 'VerifyPhone', key: 'Text', language: 'de', text: 'Instanz: {{.Code}}' },
      },
      {
        ...org,
        eventType: 'org.customtext.set',
        payload: { template: 'VerifyPhone', key: 'Text', language: 'de', text: 'ACME-Code {{.Code}} für {{.DisplayName}}' },
      },
      { ...org, eventType: 'org.customtext.set', payload: { template: 'VerifyPhone', key: 'Text', language: 'en', text: 'ACME code {{.Code}}' } },
    ]);
    const id = await requestPhoneCode(user, '314159');
    expect(await waitFinished(instanceId, id)).toBe('notification.sent');
    expect(requestsTo(phone).map((r) => r.message)).toEqual(['ACME-Code 314159 für Test User']);
  });
});
