import { describe, expect, it } from 'vitest';

import type { NotificationRequest } from '../../src/eventstore/notification-types.js';
import { KNOWN_TRIGGER_TYPES, SENT_EVENTS, sentEventFor, V1_TRIGGER_TYPES } from '../../src/worker/sent-events.js';

const INSTANCE = 'inst-1';

function request(eventType: string, extra: Partial<NotificationRequest> = {}): NotificationRequest {
  return {
    userID: 'user-1',
    userResourceOwner: 'org-1',
    notificationAggregateID: '',
    notificationAggregateResourceOwner: '',
    triggeredAtOrigin: 'https://example.com',
    eventType,
    messageType: 'X',
    notificationType: 0,
    ...extra,
  };
}

/** §4 of zitadel-facts.md: trigger → [aggregate, sent type, payload]. */
const EXPECTED: [string, 'user' | 'session', string, unknown][] = [
  ['user.human.initialization.code.added', 'user', 'user.human.initialization.code.sent', null],
  ['user.human.email.code.added', 'user', 'user.human.email.code.sent', null],
  ['user.human.password.code.added', 'user', 'user.human.password.code.sent', { generatorInfo: {} }],
  ['user.human.phone.code.added', 'user', 'user.human.phone.code.sent', { generatorInfo: {} }],
  ['user.human.mfa.otp.sms.code.added', 'user', 'user.human.mfa.otp.sms.code.sent', { generatorInfo: {} }],
  ['user.human.mfa.otp.email.code.added', 'user', 'user.human.mfa.otp.email.code.sent', {}],
  ['session.otp.sms.challenged', 'session', 'session.otp.sms.sent', { generatorInfo: {} }],
  ['session.otp.email.challenged', 'session', 'session.otp.email.sent', {}],
  ['user.domain.claimed', 'user', 'user.domain.claimed.sent', null],
  ['user.human.passwordless.initialization.code.requested', 'user', 'user.human.passwordless.initialization.code.sent', { id: '' }],
  ['user.human.password.changed', 'user', 'user.human.password.change.sent', null],
  ['user.human.invite.code.added', 'user', 'user.human.invite.code.sent', null],
];

describe('sentEventFor', () => {
  it.each(EXPECTED)('%s → %s aggregate, %s', (trigger, aggregateType, eventType, payload) => {
    const cmd = sentEventFor(INSTANCE, request(trigger), {});
    expect(cmd).toEqual({
      instanceId: INSTANCE,
      aggregateType,
      aggregateId: 'user-1',
      eventType,
      revision: aggregateType === 'user' ? 2 : 1,
      payload,
      creator: 'NOTIFICATION',
      owner: 'org-1',
    });
  });

  it('covers exactly the §4 triggers', () => {
    expect([...SENT_EVENTS.keys()].sort()).toEqual(EXPECTED.map(([t]) => t).sort());
    expect([...KNOWN_TRIGGER_TYPES].sort()).toEqual([...EXPECTED.map(([t]) => t), ...V1_TRIGGER_TYPES].sort());
  });

  it.each(V1_TRIGGER_TYPES)('v1 trigger %s has no sent event', (trigger) => {
    expect(sentEventFor(INSTANCE, request(trigger), {})).toBeUndefined();
  });

  it('unknown and prototype-named trigger types have no sent event', () => {
    expect(sentEventFor(INSTANCE, request('user.human.added'), {})).toBeUndefined();
    expect(sentEventFor(INSTANCE, request('constructor'), {})).toBeUndefined();
  });

  it('passwordless carries the code id from the request args', () => {
    const cmd = sentEventFor(INSTANCE, request('user.human.passwordless.initialization.code.requested', { args: { codeID: 'code-77' } }), {});
    expect(cmd?.payload).toEqual({ id: 'code-77' });
  });

  it('session triggers target the session aggregate and the session owner', () => {
    const cmd = sentEventFor(
      INSTANCE,
      request('session.otp.sms.challenged', {
        notificationAggregateID: 'session-9',
        notificationAggregateResourceOwner: 'session-org',
      }),
      { generatorInfo: { id: 'twilio', verificationId: 'VE123' } },
    );
    expect(cmd).toMatchObject({
      aggregateType: 'session',
      aggregateId: 'session-9',
      owner: 'session-org',
      eventType: 'session.otp.sms.sent',
      revision: 1,
      payload: { generatorInfo: { id: 'twilio', verificationId: 'VE123' } },
    });
  });

  it('generatorInfo omits empty fields (omitempty)', () => {
    const cmd = sentEventFor(INSTANCE, request('user.human.phone.code.added'), {
      generatorInfo: { id: 'twilio', verificationId: '' },
    });
    expect(cmd?.payload).toEqual({ generatorInfo: { id: 'twilio' } });
  });

  it('payload kinds stay distinct when serialised (NULL vs {} vs generatorInfo)', () => {
    const json = (t: string) => JSON.stringify(sentEventFor(INSTANCE, request(t), {})?.payload);
    expect(json('user.human.email.code.added')).toBe('null');
    expect(json('user.human.mfa.otp.email.code.added')).toBe('{}');
    expect(json('user.human.password.code.added')).toBe('{"generatorInfo":{}}');
  });
});
