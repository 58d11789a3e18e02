/**
 * `herald demo`: writes a demo instance, organisation, user and a few notification requests
 * into the eventstore exactly as ZITADEL would, so a first run shows real deliveries (into
 * the outbox when no SMTP server is configured).
 */
import { randomInt } from 'node:crypto';

import type { Config } from './config/types.js';
import { makeKeyring } from './crypto/keyring.js';
import {
  NOTIFICATION_CREATOR,
  NOTIFICATION_REVISION,
  NotificationEvent,
  type NotificationRequest,
  NotificationType,
} from './eventstore/notification-types.js';
import { makePool } from './eventstore/pool.js';
import { push } from './eventstore/push.js';
import type { EventCommand } from './eventstore/types.js';
import type { Logger } from './logger.js';
import { ensureRiverTables } from './river/ddl.js';
import { seedRiverJobs } from './river/demo.js';

/** Used only by `herald demo` when no key source is configured; never for real data. */
export const DEMO_KEY_ID = 'userKey';
const DEMO_KEY = 'herald-demo-key-not-for-real-use'; // 32 bytes

/** A ZITADEL-like decimal id (sonyflake ids are decimal strings). */
function newId(): string {
  return `${Date.now()}${randomInt(100000, 999999)}`;
}

const DEMO_REQUESTS: readonly {
  eventType: string;
  messageType: string;
  notificationType: 0 | 1;
  isOTP?: boolean;
  urlTemplate?: string;
}[] = [
  {
    eventType: 'user.human.initialization.code.added',
    messageType: 'InitCode',
    notificationType: NotificationType.email,
    urlTemplate: 'http://localhost:8080/ui/login/user/init?userID={{.UserID}}&loginname={{.LoginName}}&code={{.Code}}&orgID={{.OrgID}}',
  },
  {
    eventType: 'user.human.email.code.added',
    messageType: 'VerifyEmail',
    notificationType: NotificationType.email,
    urlTemplate: 'http://localhost:8080/ui/login/mail/verification?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}',
  },
  {
    eventType: 'user.human.password.code.added',
    messageType: 'PasswordReset',
    notificationType: NotificationType.email,
    urlTemplate: 'http://localhost:8080/ui/login/password/init?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}',
  },
  { eventType: 'user.human.mfa.otp.email.code.added', messageType: 'VerifyEmailOTP', notificationType: NotificationType.email, isOTP: true },
  { eventType: 'user.human.phone.code.added', messageType: 'VerifyPhone', notificationType: NotificationType.sms },
];

/** Requests (or River jobs) one demo seeds: `herald demo` counts their outcomes on its progress line. */
export const DEMO_REQUEST_COUNT = DEMO_REQUESTS.length;

export async function seedDemo(cfg: Config, logger: Logger, opts: { source?: 'events' | 'river' } = {}): Promise<Config> {
  const useDemoKey = !cfg.crypto.keys && !cfg.crypto.masterkey;
  const river = opts.source === 'river';
  const demoCfg: Config = Object.freeze({
    ...cfg,
    ...(useDemoKey ? { crypto: Object.freeze({ masterkey: undefined, keys: Object.freeze({ [DEMO_KEY_ID]: DEMO_KEY }) }) } : {}),
    ...(river ? { source: Object.freeze({ ...cfg.source, events: false, river: true }) } : {}),
  });
  if (useDemoKey) logger.warn('no ZITADEL_MASTERKEY or HERALD_ENCRYPTION_KEYS: the demo uses a built-in demo key');

  const pool = makePool(cfg.databaseUrl, { applicationName: 'herald-demo', logger });
  try {
    const keyring = makeKeyring(demoCfg.crypto, pool, logger);
    await keyring.load();
    const instanceId = newId();
    const orgId = newId();
    const userId = newId();
    const base = { instanceId, revision: 1, creator: 'demo' };
    await push(pool, [
      {
        ...base,
        aggregateType: 'instance',
        aggregateId: instanceId,
        eventType: 'instance.added',
        payload: { name: 'herald demo' },
        owner: instanceId,
      },
      { ...base, aggregateType: 'org', aggregateId: orgId, eventType: 'org.added', payload: { name: 'Demo Org' }, owner: orgId },
    ]);
    await push(pool, [
      {
        ...base,
        aggregateType: 'user',
        aggregateId: userId,
        eventType: 'user.human.added',
        payload: {
          userName: 'ada',
          firstName: 'Ada',
          lastName: 'Lovelace',
          displayName: 'Ada Lovelace',
          preferredLanguage: 'en',
          email: 'ada@example.com',
          phone: '+41790000001',
        },
        owner: orgId,
      },
      { ...base, aggregateType: 'user', aggregateId: userId, eventType: 'user.human.email.verified', payload: null, owner: orgId },
      { ...base, aggregateType: 'user', aggregateId: userId, eventType: 'user.human.phone.verified', payload: null, owner: orgId },
    ]);
    if (river) {
      const created = await ensureRiverTables(pool);
      if (created) logger.info("River's tables were absent: created them (schema queue) for the demo");
      const jobs = await seedRiverJobs(pool, keyring, DEMO_KEY_ID, { instanceId, orgId, userId }, DEMO_REQUESTS);
      logger.info({ instanceId, userId, jobs }, 'demo River jobs written');
      return demoCfg;
    }
    const requests: EventCommand[] = [];
    for (const r of DEMO_REQUESTS) {
      const code = await keyring.encryptString(DEMO_KEY_ID, String(randomInt(100000, 999999)));
      const request: NotificationRequest = {
        userID: userId,
        userResourceOwner: orgId,
        notificationAggregateID: '',
        notificationAggregateResourceOwner: '',
        triggeredAtOrigin: 'http://localhost:8080',
        eventType: r.eventType,
        messageType: r.messageType,
        notificationType: r.notificationType,
        code,
        codeExpiry: 600_000_000_000,
        ...(r.urlTemplate ? { urlTemplate: r.urlTemplate } : {}),
        ...(r.isOTP ? { isOTP: true, args: { origin: 'http://localhost:8080', domain: 'localhost', expiry: 300_000_000_000 } } : {}),
      };
      requests.push({
        instanceId,
        aggregateType: 'notification',
        aggregateId: newId(),
        eventType: NotificationEvent.requested,
        revision: NOTIFICATION_REVISION,
        payload: { request },
        creator: NOTIFICATION_CREATOR,
        owner: orgId,
      });
    }
    // ZITADEL pushes each request in its own transaction.
    for (const cmd of requests) await push(pool, [cmd]);
    logger.info({ instanceId, userId, requests: requests.length }, 'demo events written');
  } finally {
    await pool.end();
  }
  return demoCfg;
}
