/**
 * Every default in one place (house style §6). Durations are milliseconds, written with
 * SECOND/MINUTE so they read like ZITADEL's defaults.yaml.
 */
import type { Config, NotificationsConfig } from './types.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

/** ZITADEL's defaults.yaml `Notifications:` block (v2.66), key for key. */
export const NOTIFICATIONS_DEFAULTS = {
  workers: 1,
  bulkLimit: 10,
  requeueEveryMs: 2 * SECOND,
  retryWorkers: 1,
  retryRequeueEveryMs: 2 * SECOND,
  handleActiveInstancesMs: 0,
  transactionDurationMs: 1 * MINUTE,
  maxAttempts: 3,
  maxTtlMs: 5 * MINUTE,
  minRetryDelayMs: 1 * SECOND,
  maxRetryDelayMs: 20 * SECOND,
  retryDelayFactor: 1.5,
} as const satisfies NotificationsConfig;

/**
 * Defaults for the settings that have one. The email provider's default depends on
 * SMTP_URL, and the optional secrets/URLs default to undefined, so they are not here.
 */
export const DEFAULTS = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  redisMode: 'standalone',
  keepJobs: 10_000,
  queuePrefix: 'herald',
  outboxDir: './outbox',
  smsProvider: 'outbox',
  snsSmsType: 'Transactional',
  webhookTimeoutMs: 10 * SECOND,
  httpPort: 8080,
  dashboardReadonly: true,
  shutdownGraceMs: 25 * SECOND,
  logLevel: 'info',
  notifications: NOTIFICATIONS_DEFAULTS,
} as const satisfies {
  databaseUrl: Config['databaseUrl'];
  redisUrl: Config['redisUrl'];
  redisMode: Config['redisMode'];
  keepJobs: Config['keepJobs'];
  queuePrefix: Config['queuePrefix'];
  outboxDir: string;
  smsProvider: Config['sms']['provider'];
  snsSmsType: Config['sms']['sns']['smsType'];
  webhookTimeoutMs: Config['webhook']['timeoutMs'];
  httpPort: Config['http']['port'];
  dashboardReadonly: Config['dashboard']['readonly'];
  shutdownGraceMs: Config['shutdownGraceMs'];
  logLevel: Config['logLevel'];
  notifications: NotificationsConfig;
};
