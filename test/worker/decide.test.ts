/**
 * The decision of one attempt (src/worker/decide.ts) is a pure function: every branch is a
 * row here, from facts to the decision, with no database, clock or randomness.
 */
import { describe, expect, it } from 'vitest';

import { PermanentError, RateLimitedError } from '../../src/errors.js';
import { type NotificationRequest, NotificationType, type NotifyUser } from '../../src/eventstore/notification-types.js';
import type { InstanceSettings } from '../../src/instance/types.js';
import type { Attempt, Loaded, WriteBack } from '../../src/worker/attempt.js';
import { decide, type Decision, type Facts } from '../../src/worker/decide.js';

const NOW = Date.parse('2026-12-07T03:00:00Z');
const MINUTE = 60_000;

/** Never called: decide does no I/O. */
const writeBack: WriteBack = {
  sent: () => Promise.reject(new Error('decide wrote')),
  retry: () => Promise.reject(new Error('decide wrote')),
  cancel: () => Promise.reject(new Error('decide wrote')),
};

const request: NotificationRequest = {
  userID: 'u1',
  userResourceOwner: 'org1',
  notificationAggregateID: 'u1',
  notificationAggregateResourceOwner: 'org1',
  triggeredAtOrigin: 'https://login.example.com',
  eventType: 'user.human.initialization.code.added',
  messageType: 'InitCode',
  notificationType: NotificationType.email,
};

const user: NotifyUser = {
  ID: 'u1',
  CreationDate: '2026-01-01T00:00:00Z',
  ChangeDate: '2026-01-01T00:00:00Z',
  ResourceOwner: 'org1',
  Sequence: 1,
  State: 1,
  Type: 1,
  Username: 'ada',
  LoginNames: ['ada'],
  PreferredLoginName: 'ada',
  FirstName: 'Ada',
  LastName: 'Lovelace',
  NickName: '',
  DisplayName: 'Ada Lovelace',
  AvatarKey: '',
  PreferredLanguage: 'en',
  Gender: 0,
  LastEmail: 'ada@old.example.com',
  VerifiedEmail: 'ada@example.com',
  LastPhone: '',
  VerifiedPhone: '',
  PasswordSet: false,
};

const settings: InstanceSettings = {
  instanceId: 'i1',
  orgId: 'org1',
  removed: false,
  email: undefined,
  sms: undefined,
  branding: undefined,
  mailTemplate: undefined,
  passwordChangeNotify: true,
  defaultLanguage: undefined,
  allowedLanguages: [],
  primaryDomain: undefined,
  login: { mustBeDomain: false, verifiedDomains: [], primaryDomain: undefined, orgRemoved: false },
  texts: { instance: new Map(), org: new Map() },
};

const attempt: Attempt = {
  instanceId: 'i1',
  notificationId: 'n1',
  request,
  number: 1,
  maxAttempts: 3,
  requestedAt: new Date(NOW - MINUTE),
  since: new Date(NOW - MINUTE),
  dueAt: 0,
  snapshot: undefined,
  previousDelayMs: 0,
  eventType: 'notification.requested',
  delivered: undefined,
};

const loaded = (over: Partial<Attempt> = {}): Loaded => ({ kind: 'attempt', attempt: { ...attempt, ...over }, writeBack });

const facts = (over: Partial<Facts> = {}): Facts => ({
  loaded: loaded(),
  now: NOW,
  maxTtlMs: 5 * MINUTE,
  settings,
  user,
  retryDelayMs: 7_000,
  ...over,
});

const sendFailed = (error: Error, released = false): Facts['send'] => ({ ok: false, failure: { stage: 'send', error, released } });

interface Row {
  readonly name: string;
  readonly facts: Facts;
  readonly expected: Partial<Decision> & { kind: Decision['kind'] };
}

const rows: Row[] = [
  { name: 'missing: no events', facts: facts({ loaded: { kind: 'missing' } }), expected: { kind: 'missing' } },
  { name: 'finished: sent or canceled already', facts: facts({ loaded: { kind: 'finished' } }), expected: { kind: 'finished' } },
  {
    name: 'malformed request: canceled with the parse error',
    facts: facts({ loaded: { kind: 'malformed', error: new PermanentError('BAD_PAYLOAD', 'payload is not a request'), writeBack } }),
    expected: { kind: 'cancel', reason: 'malformed', error: 'payload is not a request' },
  },
  {
    name: 'expired: older than MaxTtl',
    facts: facts({ loaded: loaded({ since: new Date(NOW - 6 * MINUTE) }) }),
    expected: { kind: 'cancel', reason: 'expired', error: 'notification expired: not delivered within MaxTtl (5m0s)' },
  },
  {
    name: 'expired even when already delivered (as before)',
    facts: facts({ loaded: loaded({ since: new Date(NOW - 6 * MINUTE), delivered: {} }) }),
    expected: { kind: 'cancel', reason: 'expired' },
  },
  {
    name: 'exactly MaxTtl old is still in time',
    facts: facts({ loaded: loaded({ since: new Date(NOW - 5 * MINUTE) }) }),
    expected: { kind: 'send' },
  },
  {
    name: 'not due: a retry before its backoff elapsed',
    facts: facts({ loaded: loaded({ number: 2, dueAt: NOW + 4_000, snapshot: user, previousDelayMs: 5_000 }) }),
    expected: { kind: 'not-due', delayMs: 4_000 },
  },
  {
    name: 'gathering failed permanently: canceled with its error',
    facts: facts({
      settings: undefined,
      user: undefined,
      failure: { stage: 'gather', error: new PermanentError('X', 'bad user events'), released: false },
    }),
    expected: { kind: 'cancel', reason: 'permanent', error: 'bad user events' },
  },
  {
    name: 'removed instance',
    facts: facts({ settings: { ...settings, removed: true }, user: undefined }),
    expected: { kind: 'cancel', reason: 'instance-removed', error: 'the instance was removed (instance.removed): nothing is sent for it' },
  },
  {
    name: 'removed instance after delivery: the delivery is still recorded',
    facts: facts({ loaded: loaded({ delivered: {} }), settings: { ...settings, removed: true } }),
    expected: { kind: 'write-sent' },
  },
  { name: 'user not found', facts: facts({ user: undefined }), expected: { kind: 'cancel', reason: 'user-missing', error: 'user u1 not found' } },
  {
    name: 'no sent handler for the trigger type (a v1 type)',
    facts: facts({ loaded: loaded({ request: { ...request, eventType: 'user.initialization.code.added' } }) }),
    expected: { kind: 'cancel', reason: 'no-sent-handler', error: 'no sent handler for event type user.initialization.code.added' },
  },
  {
    name: 'policy refusal: password change mails turned off',
    facts: facts({
      loaded: loaded({ request: { ...request, eventType: 'user.human.password.changed', messageType: 'PasswordChange' } }),
      settings: { ...settings, passwordChangeNotify: false },
    }),
    expected: { kind: 'cancel', reason: 'policy', error: 'password change notifications are turned off by the notification policy' },
  },
  {
    name: 'policy changed after delivery: only the write-back is left',
    facts: facts({
      loaded: loaded({ delivered: {}, request: { ...request, eventType: 'user.human.password.changed', messageType: 'PasswordChange' } }),
      settings: { ...settings, passwordChangeNotify: false },
    }),
    expected: { kind: 'write-sent' },
  },
  {
    name: 'rendering failed permanently (no provider, no address): canceled',
    facts: facts({ failure: { stage: 'render', error: new PermanentError('NO_PROVIDER', 'no active email provider'), released: false } }),
    expected: { kind: 'cancel', reason: 'permanent', error: 'no active email provider' },
  },
  { name: 'all clear: send', facts: facts(), expected: { kind: 'send', request, user } },
  {
    name: 'previous domain filled in before sending',
    facts: facts({
      loaded: loaded({
        request: { ...request, eventType: 'user.domain.claimed', messageType: 'DomainClaimed', RequiresPreviousDomain: true, args: {} },
      }),
    }),
    expected: {
      kind: 'send',
      request: {
        ...request,
        eventType: 'user.domain.claimed',
        messageType: 'DomainClaimed',
        RequiresPreviousDomain: true,
        args: { domain: 'old.example.com' },
      },
    },
  },
  { name: 'sent', facts: facts({ send: { ok: true } }), expected: { kind: 'write-sent', request, user } },
  {
    name: 'permanent send error: canceled on the first attempt',
    facts: facts({ send: sendFailed(new PermanentError('SMTP_5XX', '550 mailbox unavailable')) }),
    expected: { kind: 'cancel', reason: 'permanent', error: '550 mailbox unavailable' },
  },
  {
    name: 'transient send error with attempts left: retry after the policy delay',
    facts: facts({ send: sendFailed(new Error('ECONNRESET')) }),
    expected: { kind: 'retry', delayMs: 7_000, error: 'Error: ECONNRESET', request, user },
  },
  {
    name: 'transient send error on the last attempt: canceled',
    facts: facts({ loaded: loaded({ number: 3, snapshot: user }), send: sendFailed(new Error('ECONNRESET')) }),
    expected: { kind: 'cancel', reason: 'last-attempt', error: 'Error: ECONNRESET' },
  },
  {
    name: 'throttled send: waits without using an attempt',
    facts: facts({ send: sendFailed(new RateLimitedError('PROVIDER_THROTTLED', 'slow down')) }),
    expected: { kind: 'throttled', delayMs: 7_000, error: 'slow down' },
  },
  {
    name: 'throttled on the last attempt: still not an attempt',
    facts: facts({ loaded: loaded({ number: 3 }), send: sendFailed(new RateLimitedError('PROVIDER_THROTTLED', 'slow down')) }),
    expected: { kind: 'throttled' },
  },
  {
    name: 'aborted at shutdown: released, not an attempt',
    facts: facts({ send: sendFailed(new Error('aborted'), true) }),
    expected: { kind: 'release' },
  },
];

describe('decide', () => {
  it.each(rows)('$name', ({ facts: f, expected }) => {
    expect(decide(f)).toMatchObject(expected);
  });

  it('is deterministic: the same facts give the same decision', () => {
    for (const row of rows) expect(decide(row.facts)).toEqual(decide(row.facts));
  });
});
