import { describe, expect, it } from 'vitest';

import { type Config, loadConfig } from '../../src/config/index.js';
import type { NotificationsConfig } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';

type Env = Record<string, string | undefined>;

const FILE = '/etc/herald/zitadel.yaml';

/** loadConfig with an in-memory file system holding at most FILE. */
function load(env: Env, yaml?: string): Config {
  const withFile = yaml === undefined ? env : { HERALD_CONFIG: FILE, ...env };
  return loadConfig(
    withFile,
    (p) => {
      if (p === FILE && yaml !== undefined) return yaml;
      throw Object.assign(new Error(`ENOENT: no such file, open '${p}'`), { code: 'ENOENT' });
    },
    '/srv/herald',
  );
}

/** The ConfigError message loadConfig throws for this input. */
function problem(env: Env, yaml?: string): string {
  try {
    load(env, yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as ConfigError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError');
}

/** Each key with a non-default value, its raw text and the expected parsed value. */
const KEYS: [string, keyof NotificationsConfig, string, number][] = [
  ['Workers', 'workers', '0', 0],
  ['BulkLimit', 'bulkLimit', '25', 25],
  ['RequeueEvery', 'requeueEveryMs', '500ms', 500],
  ['RetryWorkers', 'retryWorkers', '4', 4],
  ['RetryRequeueEvery', 'retryRequeueEveryMs', '1m30s', 90_000],
  ['HandleActiveInstances', 'handleActiveInstancesMs', '10m', 600_000],
  ['TransactionDuration', 'transactionDurationMs', '45s', 45_000],
  ['MaxAttempts', 'maxAttempts', '7', 7],
  ['MaxTtl', 'maxTtlMs', '1h', 3_600_000],
  ['MinRetryDelay', 'minRetryDelayMs', '250ms', 250],
  ['MaxRetryDelay', 'maxRetryDelayMs', '2m', 120_000],
  ['RetryDelayFactor', 'retryDelayFactor', '2.5', 2.5],
];

describe('Notifications defaults', () => {
  it("match ZITADEL's defaults.yaml, except herald's own concurrencies", () => {
    expect(load({}).notifications).toEqual({
      workers: 20, // ZITADEL: 1 (one send at a time per process)
      bulkLimit: 10,
      requeueEveryMs: 2_000,
      retryWorkers: 5, // ZITADEL: 1
      retryRequeueEveryMs: 2_000,
      handleActiveInstancesMs: 0,
      transactionDurationMs: 60_000,
      maxAttempts: 3,
      maxTtlMs: 300_000,
      minRetryDelayMs: 1_000,
      maxRetryDelayMs: 20_000,
      retryDelayFactor: 1.5,
    });
  });
});

describe.each(KEYS)('Notifications.%s', (key, field, raw, expected) => {
  const upper = key.toUpperCase();

  it(`is read from ZITADEL_NOTIFICATIONS_${upper}`, () => {
    expect(load({ [`ZITADEL_NOTIFICATIONS_${upper}`]: raw }).notifications[field]).toBe(expected);
  });

  it(`is read from the misspelt ZITADEL_NOTIFIACATIONS_${upper}`, () => {
    expect(load({ [`ZITADEL_NOTIFIACATIONS_${upper}`]: raw }).notifications[field]).toBe(expected);
  });

  it('is read from the YAML file as a string', () => {
    expect(load({}, `Notifications:\n  ${key}: "${raw}"\n`).notifications[field]).toBe(expected);
  });

  it('is read from the YAML file as a plain scalar', () => {
    expect(load({}, `Notifications:\n  ${key}: ${raw}\n`).notifications[field]).toBe(expected);
  });
});

describe('Notifications precedence', () => {
  const yaml = 'Notifications:\n  MaxTtl: 10m\n  BulkLimit: 20\n';

  it('file over default', () => {
    const n = load({}, yaml).notifications;
    expect(n.maxTtlMs).toBe(600_000);
    expect(n.bulkLimit).toBe(20);
    expect(n.maxAttempts).toBe(3);
  });

  it('env over file, per key', () => {
    const n = load({ ZITADEL_NOTIFICATIONS_MAXTTL: '1m' }, yaml).notifications;
    expect(n.maxTtlMs).toBe(60_000);
    expect(n.bulkLimit).toBe(20);
  });

  it('misspelt env over file', () => {
    expect(load({ ZITADEL_NOTIFIACATIONS_MAXTTL: '2m' }, yaml).notifications.maxTtlMs).toBe(120_000);
  });

  it('correct spelling over misspelt, whichever comes first', () => {
    const a = { ZITADEL_NOTIFIACATIONS_MAXTTL: '2m', ZITADEL_NOTIFICATIONS_MAXTTL: '3m' };
    const b = { ZITADEL_NOTIFICATIONS_MAXTTL: '3m', ZITADEL_NOTIFIACATIONS_MAXTTL: '2m' };
    expect(load(a).notifications.maxTtlMs).toBe(180_000);
    expect(load(b).notifications.maxTtlMs).toBe(180_000);
  });

  it('empty env values count as unset', () => {
    expect(load({ ZITADEL_NOTIFICATIONS_MAXTTL: '' }, yaml).notifications.maxTtlMs).toBe(600_000);
  });

  it('matches YAML keys case-insensitively, like viper', () => {
    const n = load({}, 'notifications:\n  maxttl: 7m\n  BULKLIMIT: 3\n').notifications;
    expect(n.maxTtlMs).toBe(420_000);
    expect(n.bulkLimit).toBe(3);
  });

  it("ignores other top-level keys, as in ZITADEL's own config file", () => {
    const zitadel = 'Log:\n  Level: info\nDatabase:\n  postgres:\n    Host: localhost\nNotifications:\n  Workers: 0\n';
    expect(load({}, zitadel).notifications.workers).toBe(0);
  });

  it('accepts and ignores LegacyEnabled in YAML and env', () => {
    const c = load({ ZITADEL_NOTIFICATIONS_LEGACYENABLED: 'true' }, 'Notifications:\n  LegacyEnabled: false\n');
    expect(c.notifications).toEqual(load({}).notifications);
    expect(c.warnings).toEqual([]);
  });

  it('accepts a file without Notifications, an empty block, and an empty file', () => {
    expect(load({}, 'Log:\n  Level: debug\n').notifications).toEqual(load({}).notifications);
    expect(load({}, 'Notifications:\n').notifications).toEqual(load({}).notifications);
    expect(load({}, '').notifications).toEqual(load({}).notifications);
  });

  it('resolves YAML merge keys', () => {
    const yamlWithMerge = 'base: &base\n  MaxAttempts: 9\nNotifications:\n  <<: *base\n  Workers: 2\n';
    const n = load({}, yamlWithMerge).notifications;
    expect(n.maxAttempts).toBe(9);
    expect(n.workers).toBe(2);
  });
});

describe('RetryDelayFactor', () => {
  it('below 1 becomes 1, with one warning naming the variable', () => {
    const c = load({ ZITADEL_NOTIFICATIONS_RETRYDELAYFACTOR: '0.5' });
    expect(c.notifications.retryDelayFactor).toBe(1);
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toContain('ZITADEL_NOTIFICATIONS_RETRYDELAYFACTOR="0.5"');
  });

  it('exactly 1 is accepted without a warning', () => {
    const c = load({ ZITADEL_NOTIFICATIONS_RETRYDELAYFACTOR: '1' });
    expect(c.notifications.retryDelayFactor).toBe(1);
    expect(c.warnings).toEqual([]);
  });

  it('below 1 in YAML warns naming the file', () => {
    const c = load({}, 'Notifications:\n  RetryDelayFactor: 0.2\n');
    expect(c.notifications.retryDelayFactor).toBe(1);
    expect(c.warnings[0]).toContain(`Notifications.RetryDelayFactor=0.2 in ${FILE}`);
  });
});

describe('Notifications errors', () => {
  it.each([
    ['ZITADEL_NOTIFICATIONS_MAXTTL', '-5s', 'ZITADEL_NOTIFICATIONS_MAXTTL="-5s": negative duration'],
    ['ZITADEL_NOTIFICATIONS_MINRETRYDELAY', '-1ms', 'ZITADEL_NOTIFICATIONS_MINRETRYDELAY="-1ms": negative duration'],
    ['ZITADEL_NOTIFICATIONS_MAXTTL', '0s', 'ZITADEL_NOTIFICATIONS_MAXTTL="0s": must be greater than 0s'],
    ['ZITADEL_NOTIFICATIONS_REQUEUEEVERY', '0', 'ZITADEL_NOTIFICATIONS_REQUEUEEVERY="0": must be greater than 0s'],
    ['ZITADEL_NOTIFICATIONS_TRANSACTIONDURATION', '0s', 'ZITADEL_NOTIFICATIONS_TRANSACTIONDURATION="0s"'],
    ['ZITADEL_NOTIFICATIONS_RETRYREQUEUEEVERY', '0s', 'ZITADEL_NOTIFICATIONS_RETRYREQUEUEEVERY="0s"'],
    ['ZITADEL_NOTIFICATIONS_MAXTTL', '5', 'ZITADEL_NOTIFICATIONS_MAXTTL="5": missing unit in duration'],
    ['ZITADEL_NOTIFICATIONS_MAXTTL', 'soon', 'ZITADEL_NOTIFICATIONS_MAXTTL="soon": invalid duration'],
    ['ZITADEL_NOTIFICATIONS_BULKLIMIT', 'ten', 'ZITADEL_NOTIFICATIONS_BULKLIMIT="ten": not an integer'],
    ['ZITADEL_NOTIFICATIONS_BULKLIMIT', '0', 'ZITADEL_NOTIFICATIONS_BULKLIMIT="0": must be an integer ≥ 1'],
    ['ZITADEL_NOTIFICATIONS_MAXATTEMPTS', '0', 'ZITADEL_NOTIFICATIONS_MAXATTEMPTS="0": must be an integer ≥ 1'],
    ['ZITADEL_NOTIFICATIONS_WORKERS', '-1', 'ZITADEL_NOTIFICATIONS_WORKERS="-1": must be an integer ≥ 0'],
    ['ZITADEL_NOTIFICATIONS_RETRYWORKERS', '1.5', 'ZITADEL_NOTIFICATIONS_RETRYWORKERS="1.5": not an integer'],
    ['ZITADEL_NOTIFICATIONS_RETRYDELAYFACTOR', 'fast', 'ZITADEL_NOTIFICATIONS_RETRYDELAYFACTOR="fast": not a number'],
    ['ZITADEL_NOTIFIACATIONS_MAXTTL', '-5s', 'ZITADEL_NOTIFIACATIONS_MAXTTL="-5s": negative duration'],
  ])('%s=%j', (name, value, expected) => {
    expect(problem({ [name]: value })).toContain(expected);
  });

  it('unknown env keys, in both spellings', () => {
    expect(problem({ ZITADEL_NOTIFICATIONS_MAXTLL: '5m' })).toContain('ZITADEL_NOTIFICATIONS_MAXTLL: unknown setting');
    expect(problem({ ZITADEL_NOTIFIACATIONS_FOO: '1' })).toContain('ZITADEL_NOTIFIACATIONS_FOO: unknown setting');
  });

  it('a mixed-case env key, which ZITADEL would ignore, is an error with a hint', () => {
    expect(problem({ ZITADEL_NOTIFICATIONS_MaxTtl: '5m' })).toContain('did you mean ZITADEL_NOTIFICATIONS_MAXTTL?');
  });

  it('unknown YAML keys name the file', () => {
    expect(problem({}, 'Notifications:\n  MaxTll: 5m\n')).toBe(`Notifications.MaxTll in ${FILE}: unknown setting`);
  });

  it('duplicate YAML keys differing in case', () => {
    expect(problem({}, 'Notifications:\n  MaxTtl: 5m\n  maxttl: 6m\n')).toContain('duplicate of Notifications.MaxTtl');
  });

  it.each([
    ['BulkLimit: 0', `Notifications.BulkLimit=0 in ${FILE}: must be an integer ≥ 1`],
    ['BulkLimit: abc', `Notifications.BulkLimit="abc" in ${FILE}: not an integer`],
    ['MaxTtl: -5s', `Notifications.MaxTtl="-5s" in ${FILE}: negative duration`],
    ['MaxTtl: 300', `Notifications.MaxTtl=300 in ${FILE}: missing unit in duration`],
    ['MaxTtl: [1]', `Notifications.MaxTtl=[1] in ${FILE}: not a duration`],
    ['RetryDelayFactor: .inf', `Notifications.RetryDelayFactor=Infinity in ${FILE}: not a finite number`],
    ['Workers: true', `Notifications.Workers=true in ${FILE}: not an integer`],
  ])('YAML %s', (line, expected) => {
    expect(problem({}, `Notifications:\n  ${line}\n`)).toContain(expected);
  });

  it('Notifications that is not a mapping', () => {
    expect(problem({}, 'Notifications: 5\n')).toContain(`Notifications=5 in ${FILE}: must be a mapping`);
  });

  it('MinRetryDelay greater than MaxRetryDelay, across sources', () => {
    expect(problem({ ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '30s' })).toBe(
      'ZITADEL_NOTIFICATIONS_MINRETRYDELAY="30s": MinRetryDelay is greater than MaxRetryDelay (MaxRetryDelay default 20s)',
    );
    expect(problem({ ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '500ms' })).toContain(
      'MinRetryDelay default 1s: MinRetryDelay is greater than MaxRetryDelay (ZITADEL_NOTIFICATIONS_MAXRETRYDELAY="500ms")',
    );
  });

  it('MinRetryDelay equal to MaxRetryDelay is fine', () => {
    const n = load({ ZITADEL_NOTIFICATIONS_MINRETRYDELAY: '5s', ZITADEL_NOTIFICATIONS_MAXRETRYDELAY: '5s' }).notifications;
    expect(n.minRetryDelayMs).toBe(5_000);
    expect(n.maxRetryDelayMs).toBe(5_000);
  });

  it('an invalid value overridden by env is not used and not reported', () => {
    expect(load({ ZITADEL_NOTIFICATIONS_MAXTTL: '1m' }, 'Notifications:\n  MaxTtl: nope\n').notifications.maxTtlMs).toBe(60_000);
  });

  it('reports every problem at once, joined with "; "', () => {
    const message = problem({ ZITADEL_NOTIFICATIONS_MAXTTL: '-5s', ZITADEL_NOTIFICATIONS_BULKLIMIT: 'x' }, 'Notifications:\n  Bogus: 1\n');
    expect(message.split('; ')).toHaveLength(3);
    expect(message).toContain('ZITADEL_NOTIFICATIONS_MAXTTL');
    expect(message).toContain('ZITADEL_NOTIFICATIONS_BULKLIMIT');
    expect(message).toContain('Notifications.Bogus');
  });
});
