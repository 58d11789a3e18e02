/**
 * The only reader of the environment (house style §5). loadConfig is pure apart from reading
 * the optional YAML file: it validates everything, reports every problem in one ConfigError,
 * and returns a deeply frozen Config.
 *
 * Empty variables count as unset (viper does the same for ZITADEL's own variables), so
 * `FOO=` in a compose file means "use the default". Secret values never appear in messages.
 */
import fs from 'node:fs';
import path from 'node:path';

import { parseDocument } from 'yaml';
import { z } from 'zod';

import { parseEgressAllow } from '../net/egress.js';
import { DEFAULTS } from './defaults.js';
import { tryParseGoDuration } from './duration.js';
import { LIMIT_VARS, limitsFromEnv } from './limits.js';
import { notificationsFromEnv, notificationsFromYaml, type RawSettings, resolveNotifications } from './notifications.js';
import { labelled, makeProblems, type Problems, redactUrl } from './problems.js';
import { checkEncryptionKeys, checkMasterkey } from './secrets.js';
import { checkSource } from './source.js';
import type { Config, EmailProviderName, RedisMode, SmsProviderName, SnsSmsType } from './types.js';

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LogLevel = z.enum(LOG_LEVELS);
const EmailProvider = z.enum(['smtp', 'webhook', 'outbox', 'none'] satisfies EmailProviderName[]);
const SmsProvider = z.enum(['sns', 'webhook', 'outbox', 'none'] satisfies SmsProviderName[]);
const RedisModeEnum = z.enum(['standalone', 'cluster'] satisfies RedisMode[]);
const DatabaseUrl = z.url({ protocol: /^postgres(ql)?$/ });
const RedisUrl = z.url({ protocol: /^rediss?$/ });
const SmtpUrl = z.url({ protocol: /^smtps?$/ });
const WebhookUrl = z.url({ protocol: /^https?$/ });
const SNS_SMS_TYPES = ['Transactional', 'Promotional'] as const satisfies readonly SnsSmsType[];
/** What SNS accepts as an alphanumeric sender id: 1–11 letters or digits, at least one letter. */
const SNS_SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;

/** HERALD_* variables this module reads; any other HERALD_* is most likely a typo. */
const KNOWN_HERALD_VARS = new Set([
  'HERALD_CONFIG',
  'HERALD_QUEUE_PREFIX',
  'HERALD_REDIS_MODE',
  'HERALD_KEEP_JOBS',
  'HERALD_EMAIL_PROVIDER',
  'HERALD_OUTBOX_DIR',
  'HERALD_SMS_PROVIDER',
  'HERALD_WEBHOOK_URL',
  'HERALD_WEBHOOK_SIGNING_KEY',
  'HERALD_WEBHOOK_TIMEOUT',
  'HERALD_SNS_SENDER_ID',
  'HERALD_SNS_SMS_TYPE',
  'HERALD_ENCRYPTION_KEYS',
  'HERALD_HTTP_PORT',
  'HERALD_DASHBOARD_USER',
  'HERALD_DASHBOARD_PASSWORD',
  'HERALD_DASHBOARD_READONLY',
  'HERALD_SHUTDOWN_GRACE',
  'HERALD_EGRESS_ALLOW',
  'HERALD_SOURCE',
  'HERALD_HISTORY_RETENTION',
  ...LIMIT_VARS,
]);

/**
 * Reads herald's configuration: defaults ← YAML file (HERALD_CONFIG, `Notifications:` only)
 * ← environment.
 *
 * @param env - the environment to read (process.env by default; tests pass their own)
 * @param readFile - reads the HERALD_CONFIG file
 * @param cwd - base for relative paths (HERALD_CONFIG, HERALD_OUTBOX_DIR)
 * @throws ConfigError naming every bad setting, on one line
 */
export function loadConfig(
  env: Env = process.env,
  readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8'),
  cwd: string = process.cwd(),
): Config {
  const problems = makeProblems();
  const warnings: string[] = [];
  const get = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);

  const configFile = get('HERALD_CONFIG');
  const fromFile: RawSettings = configFile === undefined ? new Map() : readYamlFile(path.resolve(cwd, configFile), readFile, problems);
  const fromEnv = notificationsFromEnv(env, problems);
  const notifications = resolveNotifications(fromFile, fromEnv, problems, warnings);

  const smtpUrl = checkUrl(problems, 'SMTP_URL', get('SMTP_URL'), SmtpUrl, 'must be an smtp:// or smtps:// URL');
  const webhookUrl = checkUrl(problems, 'HERALD_WEBHOOK_URL', get('HERALD_WEBHOOK_URL'), WebhookUrl, 'must be an http:// or https:// URL');
  const emailProvider = checkEnum(problems, 'HERALD_EMAIL_PROVIDER', get('HERALD_EMAIL_PROVIDER'), EmailProvider);
  const smsProvider = checkEnum(problems, 'HERALD_SMS_PROVIDER', get('HERALD_SMS_PROVIDER'), SmsProvider);
  if (emailProvider === 'smtp' && get('SMTP_URL') === undefined) {
    problems.add(labelled('HERALD_EMAIL_PROVIDER', 'smtp'), 'needs SMTP_URL');
  }
  for (const [name, provider] of [
    ['HERALD_EMAIL_PROVIDER', emailProvider],
    ['HERALD_SMS_PROVIDER', smsProvider],
  ] as const) {
    if (provider === 'webhook' && get('HERALD_WEBHOOK_URL') === undefined) {
      problems.add(labelled(name, 'webhook'), 'needs HERALD_WEBHOOK_URL');
    }
  }

  const egressAllow = checkEgressAllow(problems, get('HERALD_EGRESS_ALLOW'));
  const defaults = defaultProviders({ smtpUrl, webhookUrl, smsProvider });

  const queuePrefix = env.HERALD_QUEUE_PREFIX ?? DEFAULTS.queuePrefix;
  if (queuePrefix === '' || queuePrefix.includes(':')) {
    // Checked on the raw value: an empty prefix must not silently share the default's keys.
    problems.add(labelled('HERALD_QUEUE_PREFIX', queuePrefix), 'must be non-empty and must not contain ":"');
  }

  const redisMode = checkEnum(problems, 'HERALD_REDIS_MODE', get('HERALD_REDIS_MODE'), RedisModeEnum) ?? DEFAULTS.redisMode;
  if (redisMode === 'cluster' && /[{}]/.test(queuePrefix)) {
    // The prefix becomes the hash tag `{<prefix>}`: a brace inside would end it early.
    problems.add(labelled('HERALD_QUEUE_PREFIX', queuePrefix), 'must not contain "{" or "}" in cluster mode');
  }

  const dashboardUser = get('HERALD_DASHBOARD_USER');
  const dashboardPassword = get('HERALD_DASHBOARD_PASSWORD');
  if ((dashboardUser === undefined) !== (dashboardPassword === undefined)) {
    problems.add(
      'HERALD_DASHBOARD_USER/HERALD_DASHBOARD_PASSWORD',
      `set both or neither (only ${dashboardUser === undefined ? 'the password' : 'the user'} is set)`,
    );
  }

  for (const name of Object.keys(env)) {
    if (name.startsWith('HERALD_') && !KNOWN_HERALD_VARS.has(name)) {
      warnings.push(`${name}: unknown variable, ignored`);
    }
  }

  const config: Config = {
    databaseUrl: checkUrl(problems, 'DATABASE_URL', get('DATABASE_URL'), DatabaseUrl, 'must be a postgres:// URL') ?? DEFAULTS.databaseUrl,
    redisUrl: checkRedisUrl(problems, get('REDIS_URL'), redisMode) ?? DEFAULTS.redisUrl,
    redisMode,
    keepJobs: checkKeepJobs(problems, get('HERALD_KEEP_JOBS')),
    queuePrefix,
    email: {
      provider: emailProvider ?? defaults.email,
      smtpUrl,
      smtpFrom: get('SMTP_FROM'),
    },
    sms: {
      provider: smsProvider ?? defaults.sms,
      sns: {
        senderId: checkSenderId(problems, get('HERALD_SNS_SENDER_ID')),
        smsType: checkSmsType(problems, get('HERALD_SNS_SMS_TYPE')),
      },
    },
    webhook: {
      url: webhookUrl,
      signingKey: get('HERALD_WEBHOOK_SIGNING_KEY'),
      timeoutMs: checkWebhookTimeout(problems, get('HERALD_WEBHOOK_TIMEOUT')),
    },
    egressAllow,
    outboxDir: path.resolve(cwd, get('HERALD_OUTBOX_DIR') ?? DEFAULTS.outboxDir),
    crypto: {
      masterkey: checkMasterkey(problems, get('ZITADEL_MASTERKEY')),
      keys: checkEncryptionKeys(problems, get('HERALD_ENCRYPTION_KEYS')),
    },
    http: { port: checkPort(problems, get('HERALD_HTTP_PORT')) },
    tracing: checkTracing(problems, get),
    dashboard: {
      user: dashboardUser,
      password: dashboardPassword,
      readonly: checkBoolean(problems, 'HERALD_DASHBOARD_READONLY', get('HERALD_DASHBOARD_READONLY')),
    },
    shutdownGraceMs: checkGrace(problems, get('HERALD_SHUTDOWN_GRACE')),
    historyRetentionMs: checkHistoryRetention(problems, get('HERALD_HISTORY_RETENTION')),
    logLevel: checkEnum(problems, 'LOG_LEVEL', get('LOG_LEVEL'), LogLevel) ?? DEFAULTS.logLevel,
    notifications,
    source: checkSource(problems, get('HERALD_SOURCE'), fromFile, fromEnv),
    limits: limitsFromEnv(get, notifications.workers, problems),
    warnings,
  };
  problems.throwIfAny();
  return deepFreeze(config);
}

/**
 * The deployment fallback is an explicit choice (#11): the outbox, which writes codes to
 * disk, serves only when chosen or when nothing deliverable is configured at all (no
 * SMTP_URL, no HERALD_WEBHOOK_URL, no SNS: a local run, `herald demo`). Otherwise an unset
 * provider is `none`, and an instance without its own provider is canceled, as ZITADEL does.
 * interface.md's literal SMS default (`outbox`) therefore applies to local runs only.
 */
function defaultProviders(set: { smtpUrl: string | undefined; webhookUrl: string | undefined; smsProvider: SmsProviderName | undefined }): {
  email: EmailProviderName;
  sms: SmsProviderName;
} {
  const deliverable = set.smtpUrl !== undefined || set.webhookUrl !== undefined || set.smsProvider === 'sns';
  return {
    email: set.smtpUrl !== undefined ? 'smtp' : deliverable ? 'none' : 'outbox',
    sms: deliverable ? 'none' : 'outbox',
  };
}

/** The standard OpenTelemetry variables herald acts on (the exporter reads its others, e.g. headers, itself). */
function checkTracing(problems: Problems, get: (name: string) => string | undefined): Config['tracing'] {
  const serviceName = get('OTEL_SERVICE_NAME') ?? 'herald';
  if (get('OTEL_SDK_DISABLED')?.trim().toLowerCase() === 'true') return { tracesUrl: undefined, serviceName };
  const traces = checkUrl(
    problems,
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
    WebhookUrl,
    'must be an http:// or https:// URL',
  );
  if (traces !== undefined) return { tracesUrl: traces, serviceName };
  const base = checkUrl(
    problems,
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    get('OTEL_EXPORTER_OTLP_ENDPOINT'),
    WebhookUrl,
    'must be an http:// or https:// URL',
  );
  return { tracesUrl: base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`, serviceName };
}

/** HERALD_EGRESS_ALLOW: every entry a CIDR, an IP address or a host name; the list is normalised. */
function checkEgressAllow(problems: Problems, value: string | undefined): string[] {
  if (value === undefined) return [];
  const { invalid } = parseEgressAllow(value);
  if (invalid.length > 0) {
    problems.add(labelled('HERALD_EGRESS_ALLOW', invalid.join(',')), 'each entry must be a CIDR (10.0.0.0/8), an IP address or a host name');
    return [];
  }
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/** Parses the YAML file; a missing, unreadable or invalid file is a configuration problem. */
function readYamlFile(file: string, readFile: (path: string) => string, problems: Problems): RawSettings {
  const where = labelled('HERALD_CONFIG', file);
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    problems.add(where, `cannot read the file${typeof code === 'string' ? ` (${code})` : ''}`);
    return new Map();
  }
  // `merge` resolves `<<:` keys, which some ZITADEL configs use.
  const doc = parseDocument(text, { merge: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    // Only the first line: the rest is a code frame that could quote secrets from the file.
    problems.add(where, `invalid YAML: ${(first.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
    return new Map();
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    problems.add(where, `invalid YAML: ${String((err as Error).message).split('\n')[0]}`);
    return new Map();
  }
  return notificationsFromYaml(value, file, problems);
}

function checkUrl(problems: Problems, name: string, value: string | undefined, schema: z.ZodType<string>, reason: string): string | undefined {
  if (value === undefined) return undefined;
  if (schema.safeParse(value).success) return value;
  // URLs may carry a password (smtp://user:pass@host); never print it.
  problems.add(labelled(name, redactUrl(value)), reason);
  return undefined;
}

/** Standalone: one URL. Cluster: seed nodes separated by commas, each a URL or `host:port`. */
function checkRedisUrl(problems: Problems, value: string | undefined, mode: RedisMode): string | undefined {
  if (value === undefined) return undefined;
  const parts = mode === 'cluster' ? value.split(',').map((p) => p.trim()) : [value];
  const ok = parts.every(
    (part, i) => RedisUrl.safeParse(part).success || (i > 0 && RedisUrl.safeParse(`redis://${part}`).success && !part.includes('/')),
  );
  if (ok) return value;
  problems.add(
    // Passwords never printed, also in the `user:pass@host:port` form without a scheme.
    labelled('REDIS_URL', parts.map((p) => (p.includes('//') ? redactUrl(p) : p.replace(/^[^@]*@/, '***@'))).join(',')),
    mode === 'cluster'
      ? 'must be redis:// or rediss:// URLs (or host:port after the first) separated by commas'
      : 'must be a redis:// or rediss:// URL (several seed nodes only with HERALD_REDIS_MODE=cluster)',
  );
  return undefined;
}

function checkKeepJobs(problems: Problems, value: string | undefined): number {
  if (value === undefined) return DEFAULTS.keepJobs;
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (Number.isSafeInteger(n) && n >= 1) return n;
  problems.add(labelled('HERALD_KEEP_JOBS', value), 'must be a whole number of at least 1');
  return DEFAULTS.keepJobs;
}

function checkEnum<T extends string>(problems: Problems, name: string, value: string | undefined, schema: z.ZodEnum<{ [K in T]: K }>): T | undefined {
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value.trim().toLowerCase());
  if (parsed.success) return parsed.data as T;
  problems.add(labelled(name, value), `must be one of ${schema.options.join(', ')}`);
  return undefined;
}

function checkPort(problems: Problems, value: string | undefined): number {
  if (value === undefined) return DEFAULTS.httpPort;
  const port = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (Number.isInteger(port) && port <= 65535) return port;
  problems.add(labelled('HERALD_HTTP_PORT', value), 'must be an integer from 0 to 65535');
  return DEFAULTS.httpPort;
}

function checkBoolean(problems: Problems, name: string, value: string | undefined): boolean {
  if (value === undefined) return DEFAULTS.dashboardReadonly;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  problems.add(labelled(name, value), 'must be true or false');
  return DEFAULTS.dashboardReadonly;
}

function checkSenderId(problems: Problems, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (SNS_SENDER_ID.test(value.trim())) return value.trim();
  problems.add(labelled('HERALD_SNS_SENDER_ID', value), 'must be 1-11 letters or digits with at least one letter');
  return undefined;
}

/** Case-insensitive, returned in SNS's spelling. */
function checkSmsType(problems: Problems, value: string | undefined): SnsSmsType {
  if (value === undefined) return DEFAULTS.snsSmsType;
  const found = SNS_SMS_TYPES.find((t) => t.toLowerCase() === value.trim().toLowerCase());
  if (found) return found;
  problems.add(labelled('HERALD_SNS_SMS_TYPE', value), `must be one of ${SNS_SMS_TYPES.join(', ')}`);
  return DEFAULTS.snsSmsType;
}

/** A timeout of 0 would fail every request; a bare number is refused like every other duration. */
function checkWebhookTimeout(problems: Problems, value: string | undefined): number {
  if (value === undefined) return DEFAULTS.webhookTimeoutMs;
  const parsed = tryParseGoDuration(value.trim());
  if (!parsed.ok) {
    problems.add(labelled('HERALD_WEBHOOK_TIMEOUT', value), `${parsed.reason} (use Go syntax, e.g. 10s)`);
  } else if (parsed.ms < 1) {
    problems.add(labelled('HERALD_WEBHOOK_TIMEOUT', value), 'must be at least 1ms');
  } else {
    return Math.ceil(parsed.ms);
  }
  return DEFAULTS.webhookTimeoutMs;
}

function checkGrace(problems: Problems, value: string | undefined): number {
  if (value === undefined) return DEFAULTS.shutdownGraceMs;
  const parsed = tryParseGoDuration(value.trim());
  if (!parsed.ok) {
    problems.add(labelled('HERALD_SHUTDOWN_GRACE', value), `${parsed.reason} (use Go syntax, e.g. 25s)`);
  } else if (parsed.ms < 0) {
    problems.add(labelled('HERALD_SHUTDOWN_GRACE', value), 'negative duration');
  } else {
    return parsed.ms;
  }
  return DEFAULTS.shutdownGraceMs;
}

/** HERALD_HISTORY_RETENTION: a Go duration, `0`/`0s` turns the delivery history off. */
function checkHistoryRetention(problems: Problems, value: string | undefined): number {
  if (value === undefined) return DEFAULTS.historyRetentionMs;
  const v = value.trim();
  if (v === '0') return 0;
  const parsed = tryParseGoDuration(v);
  if (!parsed.ok) {
    problems.add(labelled('HERALD_HISTORY_RETENTION', value), `${parsed.reason} (use Go syntax, e.g. 720h; 0 turns the history off)`);
  } else if (parsed.ms < 0) {
    problems.add(labelled('HERALD_HISTORY_RETENTION', value), 'negative duration');
  } else {
    return parsed.ms;
  }
  return DEFAULTS.historyRetentionMs;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
