import { describe, expect, it } from 'vitest';

import { type Config, loadConfig } from '../../src/config/index.js';
import { ConfigError, isConfigError } from '../../src/errors.js';

type Env = Record<string, string | undefined>;

const CWD = '/srv/herald';
const KEY_A = 'abcdefghijklmnopqrstuvwxyz012345'; // 32 bytes
const KEY_B = 'ZYXWVUTSRQPONMLKJIHGFEDCBA987654';
const SECRET = 'hunter2-do-not-print-me';

function noFile(p: string): string {
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
}

function load(env: Env, readFile: (p: string) => string = noFile): Config {
  return loadConfig(env, readFile, CWD);
}

function problem(env: Env, readFile: (p: string) => string = noFile): string {
  try {
    load(env, readFile);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(isConfigError(err)).toBe(true);
    const message = (err as ConfigError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('make a local run work with an empty environment', () => {
    const c = load({});
    expect(c).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'herald',
      email: { provider: 'outbox', smtpUrl: undefined, smtpFrom: undefined },
      sms: { provider: 'outbox', sns: { senderId: undefined, smsType: 'Transactional' } },
      webhook: { url: undefined, signingKey: undefined, timeoutMs: 10_000 },
      outboxDir: '/srv/herald/outbox',
      crypto: { masterkey: undefined, keys: undefined },
      http: { port: 8080 },
      dashboard: { user: undefined, password: undefined, readonly: true },
      shutdownGraceMs: 25_000,
      logLevel: 'info',
      warnings: [],
    });
  });

  it('uses process.env and process.cwd() when called without arguments', () => {
    const outcome = (f: () => Config): unknown => {
      try {
        return f();
      } catch (err) {
        return err;
      }
    };
    expect(outcome(() => loadConfig())).toEqual(outcome(() => loadConfig(process.env, undefined, process.cwd())));
  });
});

describe('the result', () => {
  it('is deeply frozen', () => {
    const c = load({ HERALD_ENCRYPTION_KEYS: JSON.stringify({ k1: KEY_A }) });
    expect(Object.isFrozen(c)).toBe(true);
    for (const part of [c.email, c.sms, c.webhook, c.crypto, c.crypto.keys, c.http, c.dashboard, c.notifications]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(Object.isFrozen(c.warnings)).toBe(true);
    expect(() => {
      (c.notifications as { workers: number }).workers = 5;
    }).toThrow(TypeError);
  });
});

describe('settings are read', () => {
  it('every variable', () => {
    const c = load({
      DATABASE_URL: 'postgresql://u:p@db:5433/zitadel',
      REDIS_URL: 'rediss://cache:6380/2',
      HERALD_QUEUE_PREFIX: 'herald-blue',
      SMTP_URL: 'smtp://mail:2525',
      SMTP_FROM: 'noreply@example.com',
      HERALD_OUTBOX_DIR: 'var/out',
      HERALD_SMS_PROVIDER: 'sns',
      HERALD_WEBHOOK_URL: 'https://hooks.example.com/herald',
      HERALD_WEBHOOK_SIGNING_KEY: SECRET,
      ZITADEL_MASTERKEY: KEY_A,
      HERALD_ENCRYPTION_KEYS: JSON.stringify({ k1: KEY_A, k2: KEY_B }),
      HERALD_HTTP_PORT: '9090',
      HERALD_DASHBOARD_USER: 'admin',
      HERALD_DASHBOARD_PASSWORD: SECRET,
      HERALD_DASHBOARD_READONLY: 'false',
      HERALD_SHUTDOWN_GRACE: '10s',
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      databaseUrl: 'postgresql://u:p@db:5433/zitadel',
      redisUrl: 'rediss://cache:6380/2',
      queuePrefix: 'herald-blue',
      email: { provider: 'smtp', smtpUrl: 'smtp://mail:2525', smtpFrom: 'noreply@example.com' },
      sms: { provider: 'sns' },
      webhook: { url: 'https://hooks.example.com/herald', signingKey: SECRET },
      outboxDir: '/srv/herald/var/out',
      crypto: { masterkey: KEY_A, keys: { k1: KEY_A, k2: KEY_B } },
      http: { port: 9090 },
      dashboard: { user: 'admin', password: SECRET, readonly: false },
      shutdownGraceMs: 10_000,
      logLevel: 'debug',
    });
  });

  it('email defaults to smtp when SMTP_URL is set', () => {
    expect(load({ SMTP_URL: 'smtps://u:p@mail:465' }).email.provider).toBe('smtp');
  });

  it('an explicit email provider wins over the SMTP_URL default', () => {
    expect(load({ SMTP_URL: 'smtp://mail:25', HERALD_EMAIL_PROVIDER: 'outbox' }).email.provider).toBe('outbox');
  });

  it('"none" leaves a kind without a deployment default, even with SMTP_URL set', () => {
    const c = load({ SMTP_URL: 'smtp://mail:25', HERALD_EMAIL_PROVIDER: 'none', HERALD_SMS_PROVIDER: 'none' });
    expect(c.email.provider).toBe('none');
    expect(c.sms.provider).toBe('none');
  });

  it('webhook providers with a webhook URL', () => {
    const c = load({
      HERALD_EMAIL_PROVIDER: 'webhook',
      HERALD_SMS_PROVIDER: 'webhook',
      HERALD_WEBHOOK_URL: 'http://127.0.0.1:9999/hook',
    });
    expect(c.email.provider).toBe('webhook');
    expect(c.sms.provider).toBe('webhook');
  });

  it('SNS sender id and SMS type, the type case-insensitively in SNS spelling', () => {
    const c = load({ HERALD_SMS_PROVIDER: 'sns', HERALD_SNS_SENDER_ID: 'Herald1', HERALD_SNS_SMS_TYPE: 'promotional' });
    expect(c.sms).toEqual({ provider: 'sns', sns: { senderId: 'Herald1', smsType: 'Promotional' } });
    expect(c.warnings).toEqual([]);
    expect(Object.isFrozen(c.sms.sns)).toBe(true);
  });

  it('webhook timeout as a Go duration', () => {
    expect(load({ HERALD_WEBHOOK_TIMEOUT: '2.5s' }).webhook.timeoutMs).toBe(2500);
    expect(load({ HERALD_WEBHOOK_TIMEOUT: '300ms' }).webhook.timeoutMs).toBe(300);
  });

  it('an absolute outbox dir stays as is', () => {
    expect(load({ HERALD_OUTBOX_DIR: '/data/outbox' }).outboxDir).toBe('/data/outbox');
  });

  it('port 0 (any free port) and 65535', () => {
    expect(load({ HERALD_HTTP_PORT: '0' }).http.port).toBe(0);
    expect(load({ HERALD_HTTP_PORT: '65535' }).http.port).toBe(65535);
  });

  it('log levels case-insensitively, and silent', () => {
    expect(load({ LOG_LEVEL: 'WARN' }).logLevel).toBe('warn');
    expect(load({ LOG_LEVEL: 'silent' }).logLevel).toBe('silent');
  });

  it('HERALD_CONFIG relative to cwd', () => {
    const read = (p: string): string => {
      expect(p).toBe('/srv/herald/conf/herald.yaml');
      return 'Notifications:\n  Workers: 3\n';
    };
    expect(load({ HERALD_CONFIG: 'conf/herald.yaml' }, read).notifications.workers).toBe(3);
  });

  it('warns about unknown HERALD_* variables, which are likely typos', () => {
    expect(load({ HERALD_DASHBOARD_PASWORD: 'x' }).warnings).toEqual(['HERALD_DASHBOARD_PASWORD: unknown variable, ignored']);
  });
});

describe('errors name the variable', () => {
  it.each<[string, Env, string]>([
    ['bad port', { HERALD_HTTP_PORT: '70000' }, 'HERALD_HTTP_PORT="70000": must be an integer from 0 to 65535'],
    ['non-numeric port', { HERALD_HTTP_PORT: 'http' }, 'HERALD_HTTP_PORT="http"'],
    ['negative port', { HERALD_HTTP_PORT: '-1' }, 'HERALD_HTTP_PORT="-1"'],
    ['bad log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL="verbose": must be one of fatal, error, warn'],
    ['bad email provider', { HERALD_EMAIL_PROVIDER: 'ses' }, 'HERALD_EMAIL_PROVIDER="ses": must be one of smtp'],
    ['bad sms provider', { HERALD_SMS_PROVIDER: 'twilio' }, 'HERALD_SMS_PROVIDER="twilio": must be one of sns'],
    ['smtp without SMTP_URL', { HERALD_EMAIL_PROVIDER: 'smtp' }, 'HERALD_EMAIL_PROVIDER="smtp": needs SMTP_URL'],
    ['email webhook without URL', { HERALD_EMAIL_PROVIDER: 'webhook' }, 'HERALD_EMAIL_PROVIDER="webhook": needs HERALD_WEBHOOK_URL'],
    ['sms webhook without URL', { HERALD_SMS_PROVIDER: 'webhook' }, 'HERALD_SMS_PROVIDER="webhook": needs HERALD_WEBHOOK_URL'],
    ['non-http webhook', { HERALD_WEBHOOK_URL: 'ftp://x/y' }, 'HERALD_WEBHOOK_URL="ftp://x/y": must be an http://'],
    ['sender id too long', { HERALD_SNS_SENDER_ID: 'HeraldNotify1' }, 'HERALD_SNS_SENDER_ID="HeraldNotify1": must be 1-11 letters'],
    ['sender id digits only', { HERALD_SNS_SENDER_ID: '12345' }, 'HERALD_SNS_SENDER_ID="12345": must be 1-11 letters'],
    ['sender id with space', { HERALD_SNS_SENDER_ID: 'My Co' }, 'HERALD_SNS_SENDER_ID="My Co"'],
    ['bad sms type', { HERALD_SNS_SMS_TYPE: 'urgent' }, 'HERALD_SNS_SMS_TYPE="urgent": must be one of Transactional, Promotional'],
    ['unitless webhook timeout', { HERALD_WEBHOOK_TIMEOUT: '10' }, 'HERALD_WEBHOOK_TIMEOUT="10": missing unit in duration'],
    ['zero webhook timeout', { HERALD_WEBHOOK_TIMEOUT: '0s' }, 'HERALD_WEBHOOK_TIMEOUT="0s": must be at least 1ms'],
    ['bad redis URL', { REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL="http://127.0.0.1:6379": must be a redis://'],
    ['bad database URL', { DATABASE_URL: 'mysql://db' }, 'DATABASE_URL="mysql://db": must be a postgres:// URL'],
    ['bad SMTP URL', { SMTP_URL: 'mail.example.com' }, 'SMTP_URL="mail.example.com": must be an smtp://'],
    ['queue prefix with colon', { HERALD_QUEUE_PREFIX: 'a:b' }, 'HERALD_QUEUE_PREFIX="a:b": must be non-empty'],
    ['empty queue prefix', { HERALD_QUEUE_PREFIX: '' }, 'HERALD_QUEUE_PREFIX="": must be non-empty'],
    ['bad readonly flag', { HERALD_DASHBOARD_READONLY: 'maybe' }, 'HERALD_DASHBOARD_READONLY="maybe": must be true or false'],
    ['negative grace', { HERALD_SHUTDOWN_GRACE: '-1s' }, 'HERALD_SHUTDOWN_GRACE="-1s": negative duration'],
    ['unitless grace', { HERALD_SHUTDOWN_GRACE: '25' }, 'HERALD_SHUTDOWN_GRACE="25": missing unit in duration'],
    ['user without password', { HERALD_DASHBOARD_USER: 'admin' }, 'HERALD_DASHBOARD_USER/HERALD_DASHBOARD_PASSWORD: set both'],
    ['short masterkey', { ZITADEL_MASTERKEY: 'tooshort' }, 'ZITADEL_MASTERKEY: must be exactly 32 bytes (got 8)'],
    ['keys not JSON', { HERALD_ENCRYPTION_KEYS: '{k1: nope}' }, 'HERALD_ENCRYPTION_KEYS: not valid JSON'],
    ['keys not an object', { HERALD_ENCRYPTION_KEYS: '["a"]' }, 'HERALD_ENCRYPTION_KEYS: must be a JSON object'],
    ['no keys', { HERALD_ENCRYPTION_KEYS: '{}' }, 'HERALD_ENCRYPTION_KEYS: contains no keys'],
    ['key not a string', { HERALD_ENCRYPTION_KEYS: '{"k1": 5}' }, 'HERALD_ENCRYPTION_KEYS["k1"]: the key must be a string'],
  ])('%s', (_name, env, expected) => {
    expect(problem(env)).toContain(expected);
  });

  it('a wrong-length encryption key names its ID, not the key', () => {
    const message = problem({ HERALD_ENCRYPTION_KEYS: JSON.stringify({ good: KEY_A, bad: SECRET }) });
    expect(message).toBe('HERALD_ENCRYPTION_KEYS["bad"]: the key must be exactly 32 bytes (got 23)');
  });

  it('never prints secret values', () => {
    const message = problem({
      ZITADEL_MASTERKEY: SECRET,
      HERALD_ENCRYPTION_KEYS: `{"k1": "${SECRET}", oops}`,
      HERALD_DASHBOARD_PASSWORD: SECRET,
      HERALD_WEBHOOK_SIGNING_KEY: SECRET,
      SMTP_URL: `smtp://user:${SECRET}@mail:25`,
      HERALD_EMAIL_PROVIDER: 'carrier-pigeon',
      HERALD_WEBHOOK_URL: `gopher://user:${SECRET}@host`,
    });
    expect(message).not.toContain(SECRET);
    expect(message).toContain('ZITADEL_MASTERKEY');
    expect(message).toContain('HERALD_ENCRYPTION_KEYS');
    expect(message).toContain('HERALD_WEBHOOK_URL="gopher://***@host"');
  });

  it('reports every problem in one error', () => {
    const message = problem({ HERALD_HTTP_PORT: 'x', LOG_LEVEL: 'loud', ZITADEL_NOTIFICATIONS_MAXTTL: '-1s' });
    expect(message.split('; ').map((p) => p.split(/[=:]/)[0])).toEqual(['ZITADEL_NOTIFICATIONS_MAXTTL', 'HERALD_HTTP_PORT', 'LOG_LEVEL']);
  });
});

describe('the YAML file', () => {
  it('missing file', () => {
    expect(problem({ HERALD_CONFIG: '/nope.yaml' })).toBe('HERALD_CONFIG="/nope.yaml": cannot read the file (ENOENT)');
  });

  it('invalid YAML, without quoting the file', () => {
    const message = problem({ HERALD_CONFIG: '/bad.yaml' }, () => `Masterkey: ${SECRET}\nNotifications: [unclosed\n`);
    expect(message).toMatch(/^HERALD_CONFIG="\/bad\.yaml": invalid YAML: /);
    expect(message).not.toContain(SECRET);
  });

  it('duplicate keys are invalid YAML', () => {
    expect(problem({ HERALD_CONFIG: '/dup.yaml' }, () => 'Notifications:\n  Workers: 1\n  Workers: 2\n')).toContain(
      'invalid YAML: Map keys must be unique',
    );
  });

  it('a top level that is not a mapping', () => {
    expect(problem({ HERALD_CONFIG: '/list.yaml' }, () => '- a\n- b\n')).toBe('HERALD_CONFIG="/list.yaml": the file is not a YAML mapping');
  });
});
