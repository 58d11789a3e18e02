/** The resolved, frozen configuration. Only src/config reads the environment. */
import type { LimitsConfig } from './limits.js';

/** ZITADEL's `Notifications:` settings. Durations are milliseconds (may be fractional). */
export interface NotificationsConfig {
  /** Concurrency of the request queue's worker in one process; 0 turns it off. @defaultValue 1 */
  readonly workers: number;
  /** Max requests the producer enqueues per batch. @defaultValue 10 */
  readonly bulkLimit: number;
  /** Producer poll interval for requests. @defaultValue 2s */
  readonly requeueEveryMs: number;
  /** Concurrency of the retry queue's worker in one process; 0 turns it off. @defaultValue 1 */
  readonly retryWorkers: number;
  /** Producer poll interval for foreign retry events. @defaultValue 2s */
  readonly retryRequeueEveryMs: number;
  /** Only instances with an event in this window are handled; 0 = all. @defaultValue 0s */
  readonly handleActiveInstancesMs: number;
  /** Upper bound of one job's run (send + write-back). @defaultValue 1m */
  readonly transactionDurationMs: number;
  /** Sends per notification before it is canceled. @defaultValue 3 */
  readonly maxAttempts: number;
  /** A notification older than this is canceled. @defaultValue 5m */
  readonly maxTtlMs: number;
  /** @defaultValue 1s */
  readonly minRetryDelayMs: number;
  /** @defaultValue 20s */
  readonly maxRetryDelayMs: number;
  /** Values below 1 are taken as 1. @defaultValue 1.5 */
  readonly retryDelayFactor: number;
}

/**
 * The deployment's default channel, used when an instance has no active provider of its
 * own. `none`: no default — such notifications are canceled, as ZITADEL cancels them.
 */
export type EmailProviderName = 'smtp' | 'webhook' | 'outbox' | 'none';
export type SmsProviderName = 'sns' | 'webhook' | 'outbox' | 'none';
/** SNS `AWS.SNS.SMS.SMSType`: Transactional is optimised for reliability (codes), Promotional for cost. */
export type SnsSmsType = 'Transactional' | 'Promotional';
/** How REDIS_URL is reached: one server, or an ioredis Cluster seeded from one or more URLs. */
export type RedisMode = 'standalone' | 'cluster';

/** HERALD_SOURCE: which requests herald serves (both while ZITADEL is upgraded across v2.71). */
export interface SourceConfig {
  /** `notification.*` events in eventstore.events2 (ZITADEL v2.66–v2.70). @defaultValue true */
  readonly events: boolean;
  /** River jobs of kind `notification_request` in schema `queue` (ZITADEL v2.71+). @defaultValue false */
  readonly river: boolean;
  /** River's default retry policy, or herald's MinRetryDelay/MaxRetryDelay/RetryDelayFactor when any is set. */
  readonly riverRetryPolicy: 'river' | 'herald';
}

export interface Config {
  /** @defaultValue postgres://postgres@127.0.0.1:5432/postgres */
  readonly databaseUrl: string;
  /** @defaultValue redis://127.0.0.1:6379 */
  readonly redisUrl: string;
  /** HERALD_REDIS_MODE; in cluster mode REDIS_URL may list seed nodes separated by commas. @defaultValue standalone */
  readonly redisMode: RedisMode;
  /** Finished jobs kept per queue and state (completed, failed), besides the age limit (HERALD_KEEP_JOBS). @defaultValue 10000 */
  readonly keepJobs: number;
  /** BullMQ key prefix. @defaultValue herald */
  readonly queuePrefix: string;
  readonly email: {
    /**
     * @defaultValue smtp when SMTP_URL is set; else outbox when nothing deliverable is
     * configured (no SMTP_URL, no HERALD_WEBHOOK_URL, no SNS); else none
     */
    readonly provider: EmailProviderName;
    readonly smtpUrl: string | undefined;
    readonly smtpFrom: string | undefined;
  };
  readonly sms: {
    /** @defaultValue outbox when nothing deliverable is configured (as for email), else none */
    readonly provider: SmsProviderName;
    /** Amazon SNS settings; region, endpoint and credentials come from the AWS SDK's own variables. */
    readonly sns: {
      /** `AWS.SNS.SMS.SenderID` (HERALD_SNS_SENDER_ID): 1–11 letters/digits, at least one letter. */
      readonly senderId: string | undefined;
      /** `AWS.SNS.SMS.SMSType` (HERALD_SNS_SMS_TYPE). @defaultValue Transactional */
      readonly smsType: SnsSmsType;
    };
  };
  readonly webhook: {
    readonly url: string | undefined;
    readonly signingKey: string | undefined;
    /** Bound on one webhook request (HERALD_WEBHOOK_TIMEOUT). @defaultValue 10s */
    readonly timeoutMs: number;
  };
  /**
   * HERALD_EGRESS_ALLOW: CIDRs, addresses and host names tenant-configured providers may reach
   * although they are private, loopback or link-local (src/net/egress.ts). @defaultValue empty
   */
  readonly egressAllow: readonly string[];
  /** @defaultValue ./outbox (resolved to an absolute path) */
  readonly outboxDir: string;
  readonly crypto: {
    /** 32-character ZITADEL masterkey; keys come from system.encryption_keys. */
    readonly masterkey: string | undefined;
    /** keyID → raw 32-byte key, from HERALD_ENCRYPTION_KEYS. */
    readonly keys: Readonly<Record<string, string>> | undefined;
  };
  readonly http: {
    /** @defaultValue 8080 */
    readonly port: number;
  };
  readonly dashboard: {
    readonly user: string | undefined;
    readonly password: string | undefined;
    /** @defaultValue true */
    readonly readonly: boolean;
  };
  /** Graceful shutdown deadline. @defaultValue 25s (HERALD_SHUTDOWN_GRACE) */
  readonly shutdownGraceMs: number;
  /** How long the delivery history keeps a notification after its last change; 0 turns the history off. @defaultValue 720h (HERALD_HISTORY_RETENTION) */
  readonly historyRetentionMs: number;
  /** pino level. @defaultValue info */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly notifications: NotificationsConfig;
  /** @defaultValue events only */
  readonly source: SourceConfig;
  /** Tenant limits: per-instance concurrency, provider rates, flood guard (config/limits.ts). */
  readonly limits: LimitsConfig;
  /**
   * OpenTelemetry traces over OTLP/HTTP, only when an endpoint is set (the SDK is not even
   * loaded otherwise). `tracesUrl`: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else
   * OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`; OTEL_SDK_DISABLED=true turns it off.
   * @defaultValue off; service name `herald` (OTEL_SERVICE_NAME)
   */
  readonly tracing: { readonly tracesUrl: string | undefined; readonly serviceName: string };
  /** Non-fatal notes found while loading (e.g. a factor below 1 taken as 1), logged once at start. */
  readonly warnings: readonly string[];
}
