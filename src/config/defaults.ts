/**
 * Every default in one place (house style §6). Durations are milliseconds, written with
 * SECOND/MINUTE so they read like ZITADEL's defaults.yaml.
 */
import type { Config, NotificationsConfig } from './types.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

/**
 * ZITADEL's defaults.yaml `Notifications:` block (v2.66), key for key — except the two
 * concurrencies, which are herald's own. They keep ZITADEL's meaning (sends in flight per
 * process) but ZITADEL's 1 made each process send one message at a time: a send waits on
 * the network (SMTP, SNS, HTTP) and on two Postgres round trips, so one worker process
 * with the defaults must not be what limits throughput. 20 request sends in flight keep a
 * process busy even with a provider that answers in ~100 ms; the retry queue only carries
 * retry events written by someone else (and expired ones), so 5 is plenty.
 */
export const NOTIFICATIONS_DEFAULTS = {
  workers: 20,
  bulkLimit: 10,
  requeueEveryMs: 2 * SECOND,
  retryWorkers: 5,
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
 * Defaults for the settings that have one. The providers' defaults depend on what else is
 * configured (config/load.ts `defaultProviders`), and the optional secrets/URLs default to
 * undefined, so they are not here.
 */
export const DEFAULTS = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  redisMode: 'standalone',
  keepJobs: 10_000,
  queuePrefix: 'herald',
  outboxDir: './outbox',
  snsSmsType: 'Transactional',
  webhookTimeoutMs: 10 * SECOND,
  httpPort: 8080,
  dashboardReadonly: true,
  shutdownGraceMs: 25 * SECOND,
  historyRetentionMs: 720 * 60 * MINUTE,
  logLevel: 'info',
  notifications: NOTIFICATIONS_DEFAULTS,
} as const satisfies {
  databaseUrl: Config['databaseUrl'];
  redisUrl: Config['redisUrl'];
  redisMode: Config['redisMode'];
  keepJobs: Config['keepJobs'];
  queuePrefix: Config['queuePrefix'];
  outboxDir: string;
  snsSmsType: Config['sms']['sns']['smsType'];
  webhookTimeoutMs: Config['webhook']['timeoutMs'];
  httpPort: Config['http']['port'];
  dashboardReadonly: Config['dashboard']['readonly'];
  shutdownGraceMs: Config['shutdownGraceMs'];
  historyRetentionMs: Config['historyRetentionMs'];
  logLevel: Config['logLevel'];
  notifications: NotificationsConfig;
};
