/**
 * HERALD_* settings of the tenant limits (issue #15): per-instance concurrency, the
 * deployment providers' send rates and the recipient flood guard. Rates read `<n>/<duration>`
 * (Go duration: `10/10m`, `14/1s`) or a bare `<n>` meaning per second.
 */
import { tryParseGoDuration } from './duration.js';
import { labelled, type Problems } from './problems.js';

/** `n` events per `perMs` milliseconds. */
export interface Rate {
  readonly count: number;
  readonly perMs: number;
}

export interface LimitsConfig {
  /** HERALD_INSTANCE_CONCURRENCY: in-flight sends of one instance per worker process. @defaultValue half of Workers, at least 1 */
  readonly instanceConcurrency: number;
  /** HERALD_RECIPIENT_LIMIT; undefined: turned off (`0`). @defaultValue 10/10m */
  readonly recipientLimit: Rate | undefined;
  /** HERALD_SMTP_RATE / HERALD_SNS_RATE / HERALD_WEBHOOK_RATE; undefined: unlimited until a throttle is seen. */
  readonly rates: { readonly smtp?: Rate; readonly sns?: Rate; readonly webhook?: Rate };
  /** HERALD_BREAKER_THRESHOLD: consecutive connection failures or timeouts that open a provider's breaker; undefined: `0`, no breaker. @defaultValue 5 */
  readonly breakerThreshold: number | undefined;
}

export const LIMIT_VARS = [
  'HERALD_INSTANCE_CONCURRENCY',
  'HERALD_RECIPIENT_LIMIT',
  'HERALD_SMTP_RATE',
  'HERALD_SNS_RATE',
  'HERALD_WEBHOOK_RATE',
  'HERALD_BREAKER_THRESHOLD',
] as const;

export const DEFAULT_RECIPIENT_LIMIT: Rate = { count: 10, perMs: 10 * 60_000 };

const MAX_COUNT = 1_000_000;

/** `<n>/<duration>` or `<n>` (per second); undefined with a reason when unreadable. */
export function parseRate(value: string): Rate | { problem: string } {
  const v = value.trim();
  if (v.length > 40) return { problem: 'too long' };
  const slash = v.indexOf('/');
  const countText = slash < 0 ? v : v.slice(0, slash);
  const count = /^\d+(\.\d+)?$/.test(countText) ? Number(countText) : NaN;
  if (!Number.isFinite(count) || count <= 0 || count > MAX_COUNT) return { problem: `count must be a number above 0 and at most ${MAX_COUNT}` };
  if (slash < 0) return { count, perMs: 1000 };
  const d = tryParseGoDuration(v.slice(slash + 1).trim());
  if (!d.ok) return { problem: `${d.reason} (use <n>/<duration>, e.g. 10/10m)` };
  if (d.ms < 1 || d.ms > 24 * 3_600_000) return { problem: 'duration must be from 1ms to 24h' };
  return { count, perMs: d.ms };
}

function rateOf(problems: Problems, name: string, value: string | undefined, zeroOff: boolean): Rate | undefined | 'off' {
  if (value === undefined) return undefined;
  if (zeroOff && value.trim() === '0') return 'off';
  const r = parseRate(value);
  if ('problem' in r) {
    problems.add(labelled(name, value), r.problem);
    return undefined;
  }
  return r;
}

/** Reads the limits' variables (empty = unset); `workers` is Notifications.Workers. */
export function limitsFromEnv(get: (name: string) => string | undefined, workers: number, problems: Problems): LimitsConfig {
  const defaultConcurrency = Math.max(1, Math.floor(workers / 2));
  let instanceConcurrency = defaultConcurrency;
  const ic = get('HERALD_INSTANCE_CONCURRENCY');
  if (ic !== undefined) {
    const n = /^\d+$/.test(ic.trim()) ? Number(ic.trim()) : NaN;
    if (Number.isSafeInteger(n) && n >= 1) instanceConcurrency = n;
    else problems.add(labelled('HERALD_INSTANCE_CONCURRENCY', ic), 'must be a whole number of at least 1');
  }
  const guard = rateOf(problems, 'HERALD_RECIPIENT_LIMIT', get('HERALD_RECIPIENT_LIMIT'), true);
  if (guard !== undefined && guard !== 'off' && !Number.isInteger(guard.count)) {
    problems.add(labelled('HERALD_RECIPIENT_LIMIT', get('HERALD_RECIPIENT_LIMIT')), 'the count must be a whole number');
  }
  const rate = (name: string): Rate | undefined => {
    const r = rateOf(problems, name, get(name), false);
    return r === 'off' ? undefined : r;
  };
  const smtp = rate('HERALD_SMTP_RATE');
  const sns = rate('HERALD_SNS_RATE');
  const webhook = rate('HERALD_WEBHOOK_RATE');
  let breakerThreshold: number | undefined = 5;
  const bt = get('HERALD_BREAKER_THRESHOLD');
  if (bt !== undefined) {
    const n = /^\d+$/.test(bt.trim()) ? Number(bt.trim()) : NaN;
    if (Number.isSafeInteger(n) && n <= MAX_COUNT) breakerThreshold = n === 0 ? undefined : n;
    else problems.add(labelled('HERALD_BREAKER_THRESHOLD', bt), 'must be a whole number (0 turns the breaker off)');
  }
  return {
    breakerThreshold,
    instanceConcurrency,
    recipientLimit: guard === 'off' ? undefined : (guard ?? DEFAULT_RECIPIENT_LIMIT),
    rates: { ...(smtp ? { smtp } : {}), ...(sns ? { sns } : {}), ...(webhook ? { webhook } : {}) },
  };
}
