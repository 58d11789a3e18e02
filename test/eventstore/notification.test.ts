import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PermanentError } from '../../src/errors.js';
import { isPermanent } from '../../src/errors.js';
import {
  canceledPayload,
  MAX_PAYLOAD_STRING,
  migrate,
  NOTIFICATION_AGGREGATE,
  NOTIFICATION_CREATOR,
  NotificationEvent,
  type NotifyUser,
  parseRequestedPayload,
  parseRetryPayload,
  push,
  readAggregate,
  retryPayload,
  sentPayload,
} from '../../src/eventstore/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents } from '../helpers/events.js';

/** A notification.requested payload as ZITADEL's user notifier writes it (InviteUser). */
const zitadelRequested = {
  request: {
    userID: '298142713562988546',
    userResourceOwner: '298142713562922010',
    notificationAggregateID: '',
    notificationAggregateResourceOwner: '',
    triggeredAtOrigin: 'https://auth.example.com',
    eventType: 'user.human.invite.code.added',
    messageType: 'InviteUser',
    notificationType: 0,
    urlTemplate: 'https://auth.example.com/ui/login/user/invite?userID={{.UserID}}&code={{.Code}}',
    codeExpiry: 259200000000000,
    code: { CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey', Crypted: 'q83vEjRWeJq83vEjRWeJq1Zs0w==' },
    unverifiedNotificationChannel: true,
    args: { applicationName: 'ZITADEL', authRequestID: '' },
  },
};

const notifyUser: NotifyUser = {
  ID: '298142713562988546',
  CreationDate: '2024-12-04T10:00:00.123456Z',
  ChangeDate: '2024-12-04T10:00:01Z',
  ResourceOwner: '298142713562922010',
  Sequence: 4,
  State: 1,
  Type: 1,
  Username: 'ada',
  LoginNames: ['ada@example.com'],
  PreferredLoginName: 'ada@example.com',
  FirstName: 'Ada',
  LastName: 'Lovelace',
  NickName: '',
  DisplayName: 'Ada Lovelace',
  AvatarKey: '',
  PreferredLanguage: 'en',
  Gender: 0,
  LastEmail: 'ada@example.com',
  VerifiedEmail: '',
  LastPhone: '',
  VerifiedPhone: '',
  PasswordSet: false,
};

function permanentMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isPermanent(err)).toBe(true);
    expect((err as PermanentError).code).toBe('MALFORMED_PAYLOAD');
    return (err as Error).message;
  }
  throw new Error('expected a PermanentError');
}

describe('parseRequestedPayload', () => {
  it("accepts ZITADEL's shape and keeps every known field", () => {
    expect(parseRequestedPayload(zitadelRequested)).toEqual(zitadelRequested.request);
  });

  it('accepts an SMS OTP request with RequiresPreviousDomain and args', () => {
    const req = {
      ...zitadelRequested.request,
      notificationType: 1,
      messageType: 'VerifySMSOTP',
      isOTP: true,
      RequiresPreviousDomain: true,
      args: { origin: 'https://a', domain: 'a', expiry: 300000000000, sessionID: 's1' },
    };
    expect(parseRequestedPayload({ request: req })).toEqual(req);
  });

  it('tolerates unknown fields (dropped) and null optional fields (absent)', () => {
    const parsed = parseRequestedPayload({
      futureTopLevel: 1,
      request: { ...zitadelRequested.request, someNewField: 'x', urlTemplate: null, args: null },
    });
    expect(parsed).not.toHaveProperty('someNewField');
    expect(parsed).not.toHaveProperty('urlTemplate');
    expect(parsed).not.toHaveProperty('args');
    expect(parsed.userID).toBe(zitadelRequested.request.userID);
  });

  it.each([
    ['userID', { userID: undefined }],
    ['userResourceOwner', { userResourceOwner: undefined }],
    ['eventType', { eventType: 42 }],
    ['messageType', { messageType: '' }],
    ['notificationType', { notificationType: 2 }],
    ['notificationType', { notificationType: '0' }],
    ['code', { code: 'not-an-object' }],
    ['code.Crypted', { code: { CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey' } }],
    ['codeExpiry', { codeExpiry: 1.5 }],
    ['args.expiry', { args: { expiry: '5m' } }],
    ['isOTP', { isOTP: 'yes' }],
  ])('rejects a malformed %s with PermanentError naming it', (field, change) => {
    const message = permanentMessage(() => parseRequestedPayload({ request: { ...zitadelRequested.request, ...change } }));
    expect(message).toContain(`request.${field}`);
  });

  it('rejects an absurdly large string', () => {
    const huge = 'x'.repeat(MAX_PAYLOAD_STRING + 1);
    const message = permanentMessage(() => parseRequestedPayload({ request: { ...zitadelRequested.request, urlTemplate: huge } }));
    expect(message).toContain('request.urlTemplate');
    expect(message.length).toBeLessThan(500);
  });

  it.each([null, [], 'text', 7, {}])('rejects a payload that is not a request object: %j', (payload) => {
    permanentMessage(() => parseRequestedPayload(payload));
  });
});

describe('parseRetryPayload and the builders', () => {
  const request = parseRequestedPayload({
    request: { ...zitadelRequested.request, RequiresPreviousDomain: true },
  });

  it("retryPayload builds ZITADEL's shape, keeping RequiresPreviousDomain on purpose", () => {
    const payload = retryPayload(request, 'ID=SMTP-1 Message=timeout', notifyUser, 5_000_000_000);
    expect(payload).toEqual({ request, error: 'ID=SMTP-1 Message=timeout', notifyUser, backOff: 5_000_000_000 });
    expect(payload.request.RequiresPreviousDomain).toBe(true);
    expect(parseRetryPayload(JSON.parse(JSON.stringify(payload)))).toEqual(payload);
  });

  it('rejects a fractional or negative backOff when building', () => {
    expect(() => retryPayload(request, '', notifyUser, 1.5)).toThrow(RangeError);
    expect(() => retryPayload(request, '', notifyUser, -1)).toThrow(RangeError);
  });

  it('rejects malformed retry payloads with PermanentError', () => {
    const good = retryPayload(request, 'e', notifyUser, 1);
    expect(permanentMessage(() => parseRetryPayload({ ...good, backOff: 'soon' }))).toContain('backOff');
    expect(permanentMessage(() => parseRetryPayload({ ...good, notifyUser: { ...notifyUser, ID: 5 } }))).toContain('notifyUser.ID');
    expect(permanentMessage(() => parseRetryPayload({ ...good, notifyUser: undefined }))).toContain('notifyUser');
  });

  it('fills NotifyUser fields ZITADEL always writes with Go zero values when absent', () => {
    const parsed = parseRetryPayload({ request, error: 'e', backOff: 1, notifyUser: { ID: 'u1', LoginNames: null } });
    expect(parsed.notifyUser).toMatchObject({ ID: 'u1', LoginNames: null, PreferredLanguage: 'und', PasswordSet: false });
  });

  it('sent is {} and canceled is {error}', () => {
    expect(sentPayload()).toEqual({});
    expect(canceledPayload('')).toEqual({ error: '' });
    expect(canceledPayload('no channel')).toEqual({ error: 'no channel' });
  });
});

describe('payloads through the eventstore', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
  });
  afterAll(async () => {
    await db.drop();
  });

  it("a ZITADEL-written request parses after a JSONB round trip, and herald's events read back", async () => {
    const ref = { instanceId: 'i1', aggregateType: NOTIFICATION_AGGREGATE, aggregateId: '298142713563054082' };
    await insertZitadelEvents(db.pool, [{ ...ref, eventType: NotificationEvent.requested, owner: 'org1', payload: zitadelRequested }]);
    const [requested] = await readAggregate(db.pool, ref);
    const request = parseRequestedPayload(requested?.payload);
    expect(request).toEqual(zitadelRequested.request);

    const base = { ...ref, revision: 1, creator: NOTIFICATION_CREATOR, owner: '' };
    await push(db.pool, [{ ...base, eventType: NotificationEvent.retryRequested, payload: retryPayload(request, 'e', notifyUser, 1) }]);
    await push(db.pool, [{ ...base, eventType: NotificationEvent.canceled, payload: canceledPayload('gone') }]);
    const [, retry, canceled] = await readAggregate(db.pool, ref);
    expect(parseRetryPayload(retry?.payload)).toEqual(retryPayload(request, 'e', notifyUser, 1));
    expect(canceled?.payload).toEqual({ error: 'gone' });
    expect(canceled?.owner).toBe('org1');
  });
});
