/**
 * ZITADEL's `Notifications:` settings, read the way ZITADEL (viper) reads them: defaults, then
 * the YAML file (keys case-insensitive), then `ZITADEL_NOTIFICATIONS_<KEY>` — and the seed's
 * misspelt `ZITADEL_NOTIFIACATIONS_<KEY>`, which loses when both are set.
 *
 * Unlike viper, unknown keys and bad values are errors: a typo must not quietly leave a
 * default in force.
 */
import { NOTIFICATIONS_DEFAULTS } from './defaults.js';
import { formatGoDuration, tryParseGoDuration } from './duration.js';
import { labelled, type Problems, show } from './problems.js';
import type { NotificationsConfig } from './types.js';

/** count0: integer ≥ 0; count1: integer ≥ 1; interval: duration > 0; duration: ≥ 0. */
type Kind = 'count0' | 'count1' | 'interval' | 'duration' | 'factor';

const KEYS = {
  Workers: { field: 'workers', kind: 'count0' },
  BulkLimit: { field: 'bulkLimit', kind: 'count1' },
  RequeueEvery: { field: 'requeueEveryMs', kind: 'interval' },
  RetryWorkers: { field: 'retryWorkers', kind: 'count0' },
  RetryRequeueEvery: { field: 'retryRequeueEveryMs', kind: 'interval' },
  HandleActiveInstances: { field: 'handleActiveInstancesMs', kind: 'duration' },
  TransactionDuration: { field: 'transactionDurationMs', kind: 'interval' },
  MaxAttempts: { field: 'maxAttempts', kind: 'count1' },
  MaxTtl: { field: 'maxTtlMs', kind: 'interval' },
  MinRetryDelay: { field: 'minRetryDelayMs', kind: 'duration' },
  MaxRetryDelay: { field: 'maxRetryDelayMs', kind: 'duration' },
  RetryDelayFactor: { field: 'retryDelayFactor', kind: 'factor' },
} as const satisfies Record<string, { field: keyof NotificationsConfig; kind: Kind }>;

type KeyName = keyof typeof KEYS;

/** Real ZITADEL keys that do not apply to herald (LegacyEnabled picks ZITADEL's old in-process path). */
const IGNORED_KEYS = ['LegacyEnabled'] as const;

const KEY_BY_UPPER: ReadonlyMap<string, KeyName | 'ignored'> = new Map<string, KeyName | 'ignored'>([
  ...(Object.keys(KEYS) as KeyName[]).map((k) => [k.toUpperCase(), k] as const),
  ...IGNORED_KEYS.map((k) => [k.toUpperCase(), 'ignored'] as const),
]);

export const ENV_PREFIX = 'ZITADEL_NOTIFICATIONS_';
/** The spelling used in ZITADEL's own defaults.yaml comments (and so in the seed's deployments). */
export const MISSPELT_ENV_PREFIX = 'ZITADEL_NOTIFIACATIONS_';

/** One value from one source; `label` names it with its value for messages. */
export interface RawSetting {
  readonly value: unknown;
  readonly label: string;
}

export type RawSettings = Map<KeyName, RawSetting>;

/**
 * The settings under the top-level `Notifications:` of a parsed YAML document. Other top-level
 * keys are ignored so that operators can point HERALD_CONFIG at ZITADEL's own config file.
 */
export function notificationsFromYaml(doc: unknown, file: string, problems: Problems): RawSettings {
  const settings: RawSettings = new Map();
  if (doc === null || doc === undefined) return settings;
  if (!isPlainObject(doc)) {
    problems.add(`HERALD_CONFIG=${show(file)}`, 'the file is not a YAML mapping');
    return settings;
  }
  const tops = Object.keys(doc).filter((k) => k.toLowerCase() === 'notifications');
  if (tops.length > 1) {
    problems.add(`${tops.join(', ')} in ${file}`, 'Notifications is set more than once');
    return settings;
  }
  const top = tops[0];
  if (top === undefined) return settings;
  const block = doc[top];
  if (block === null || block === undefined) return settings;
  if (!isPlainObject(block)) {
    problems.add(`${labelled(top, block)} in ${file}`, 'must be a mapping of settings');
    return settings;
  }
  const seen = new Map<string, string>();
  for (const [written, value] of Object.entries(block)) {
    const path = `${top}.${written}`;
    const key = KEY_BY_UPPER.get(written.toUpperCase());
    if (key === undefined) {
      problems.add(`${path} in ${file}`, 'unknown setting');
      continue;
    }
    const earlier = seen.get(written.toUpperCase());
    if (earlier !== undefined) {
      problems.add(`${path} in ${file}`, `duplicate of ${earlier} (keys are case-insensitive)`);
      continue;
    }
    seen.set(written.toUpperCase(), path);
    // An empty YAML value (`MaxTtl:`) leaves the default, as it does in ZITADEL.
    if (key === 'ignored' || value === null || value === undefined) continue;
    settings.set(key, { value, label: `${labelled(path, value)} in ${file}` });
  }
  return settings;
}

/** `ZITADEL_NOTIFICATIONS_<KEY>` over `ZITADEL_NOTIFIACATIONS_<KEY>`. Empty values count as unset, as in viper. */
export function notificationsFromEnv(env: Readonly<Record<string, string | undefined>>, problems: Problems): RawSettings {
  const correct: RawSettings = new Map();
  const misspelt: RawSettings = new Map();
  for (const [name, value] of Object.entries(env)) {
    const prefix = name.startsWith(ENV_PREFIX) ? ENV_PREFIX : name.startsWith(MISSPELT_ENV_PREFIX) ? MISSPELT_ENV_PREFIX : undefined;
    if (prefix === undefined || value === undefined || value === '') continue;
    const suffix = name.slice(prefix.length);
    const key = KEY_BY_UPPER.get(suffix.toUpperCase());
    if (key === undefined) {
      problems.add(name, 'unknown setting');
      continue;
    }
    // viper only ever looks up the upper-case name; a mixed-case one would be ignored by ZITADEL.
    if (suffix !== suffix.toUpperCase()) {
      problems.add(name, `unknown setting (did you mean ${prefix}${suffix.toUpperCase()}?)`);
      continue;
    }
    if (key === 'ignored') continue;
    (prefix === ENV_PREFIX ? correct : misspelt).set(key, { value, label: labelled(name, value) });
  }
  return new Map([...misspelt, ...correct]);
}

type Parsed = { ok: true; value: number } | { ok: false; reason: string };

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(value: unknown, integer: boolean): Parsed {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'string' && (integer ? INTEGER : DECIMAL).test(value.trim())) {
    n = Number(value.trim());
  } else {
    return { ok: false, reason: integer ? 'not an integer' : 'not a number' };
  }
  if (integer ? !Number.isSafeInteger(n) : !Number.isFinite(n)) {
    return { ok: false, reason: integer ? 'not an integer' : 'not a finite number' };
  }
  return { ok: true, value: n };
}

function parseDuration(value: unknown, positive: boolean): Parsed {
  let ms: number;
  if (typeof value === 'string') {
    const parsed = tryParseGoDuration(value.trim());
    if (!parsed.ok) return { ok: false, reason: `${parsed.reason} (use Go syntax, e.g. 1m30s, 250ms)` };
    ms = parsed.ms;
  } else if (typeof value === 'number' && value === 0) {
    ms = 0;
  } else if (typeof value === 'number') {
    // Go's time.ParseDuration rejects a bare number too; guessing seconds vs nanoseconds is worse.
    return { ok: false, reason: 'missing unit in duration (use Go syntax, e.g. 5s)' };
  } else {
    return { ok: false, reason: 'not a duration (use Go syntax, e.g. 1m30s, 250ms)' };
  }
  if (ms < 0) return { ok: false, reason: 'negative duration' };
  if (positive && ms === 0) return { ok: false, reason: 'must be greater than 0s' };
  return { ok: true, value: ms };
}

function parseSetting(kind: Kind, value: unknown): Parsed {
  switch (kind) {
    case 'count0':
    case 'count1': {
      const parsed = parseNumber(value, true);
      const min = kind === 'count0' ? 0 : 1;
      if (parsed.ok && parsed.value < min) return { ok: false, reason: `must be an integer ≥ ${min}` };
      return parsed;
    }
    case 'interval':
      return parseDuration(value, true);
    case 'duration':
      return parseDuration(value, false);
    case 'factor':
      return parseNumber(value, false);
  }
}

/** Validates the effective value of every key (defaults ← file ← env) and the rules across keys. */
export function resolveNotifications(fromFile: RawSettings, fromEnv: RawSettings, problems: Problems, warnings: string[]): NotificationsConfig {
  const result: Record<keyof NotificationsConfig, number> = { ...NOTIFICATIONS_DEFAULTS };
  const source = new Map<KeyName, string>();
  const invalid = new Set<KeyName>();
  for (const [key, { field, kind }] of Object.entries(KEYS) as [KeyName, (typeof KEYS)[KeyName]][]) {
    const raw = fromEnv.get(key) ?? fromFile.get(key);
    if (raw === undefined) continue;
    const parsed = parseSetting(kind, raw.value);
    if (!parsed.ok) {
      problems.add(raw.label, parsed.reason);
      invalid.add(key);
      continue;
    }
    source.set(key, raw.label);
    result[field] = parsed.value;
  }

  if (result.retryDelayFactor < 1) {
    const where = source.get('RetryDelayFactor') ?? 'RetryDelayFactor';
    warnings.push(`${where}: a retry delay factor below 1 is taken as 1 (as ZITADEL does)`);
    result.retryDelayFactor = 1;
  }
  const bothValid = !invalid.has('MinRetryDelay') && !invalid.has('MaxRetryDelay');
  if (bothValid && result.minRetryDelayMs > result.maxRetryDelayMs) {
    const min = source.get('MinRetryDelay') ?? `MinRetryDelay default ${formatGoDuration(result.minRetryDelayMs)}`;
    const max = source.get('MaxRetryDelay') ?? `MaxRetryDelay default ${formatGoDuration(result.maxRetryDelayMs)}`;
    problems.add(min, `MinRetryDelay is greater than MaxRetryDelay (${max})`);
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
