/**
 * Error classes, classified by type, never by message (house style §9).
 *
 * - PermanentError: the notification can never succeed; the worker cancels it
 *   (BullMQ UnrecoverableError).
 * - RateLimitedError: the provider asked us to slow down; retried.
 * - ConcurrencyError: another writer wrote the same aggregate first.
 * - ConfigError: bad configuration or usage; the CLI exits 2.
 * Anything else is treated as transient and retried.
 */

export class HeraldError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The notification can never be delivered: cancel it, do not retry. */
export class PermanentError extends HeraldError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The provider throttled us (code PROVIDER_THROTTLED); retry later without using an attempt. */
export class RateLimitedError extends HeraldError {
  /** How long the provider asked us to wait (Retry-After), when it said; bounded by the worker. */
  readonly retryAfterMs: number | undefined;
  constructor(code: string, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(code, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * herald did not try: the provider's circuit breaker is open (code BREAKER_OPEN). A
 * RateLimitedError, so it uses no attempt; `retryAfterMs` is the rest of the cool-down.
 */
export class BreakerOpenError extends RateLimitedError {
  constructor(message: string, retryAfterMs: number) {
    super('BREAKER_OPEN', message, { retryAfterMs });
  }
}

/** Another writer pushed to the same aggregate since we read it. */
export class ConcurrencyError extends HeraldError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONCURRENT_WRITE', message, options);
  }
}

/** Bad configuration or CLI usage: exit code 2 with a one-line message. */
export class ConfigError extends HeraldError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_CONFIG', message, options);
  }
}

function hasName(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name;
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError || hasName(err, 'PermanentError');
}

export function isRateLimited(err: unknown): err is RateLimitedError {
  return err instanceof RateLimitedError || hasName(err, 'RateLimitedError');
}

export function isBreakerOpen(err: unknown): err is BreakerOpenError {
  return err instanceof BreakerOpenError || hasName(err, 'BreakerOpenError');
}

export function isConcurrency(err: unknown): err is ConcurrencyError {
  return err instanceof ConcurrencyError || hasName(err, 'ConcurrencyError');
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError || hasName(err, 'ConfigError');
}

/** Normalise anything thrown into an Error. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'string') return new Error(err);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(err)}`);
  } catch {
    return new Error('non-error thrown');
  }
}

/**
 * A dependency (Postgres, Redis) failed while reading or writing state, not while sending:
 * retried later without using up one of the notification's attempts.
 */
export class DependencyError extends HeraldError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEPENDENCY_UNAVAILABLE', message, options);
  }
}

export function isDependency(err: unknown): err is DependencyError {
  return err instanceof DependencyError || hasName(err, 'DependencyError');
}

/** Runs a state read/write; anything but herald's own typed errors becomes a DependencyError. */
export async function asDependency<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HeraldError) throw err;
    throw new DependencyError(`${what}: ${coerceError(err).message}`, { cause: err });
  }
}

/*
 * Public reasons. An error's text leaves the process in events (notification.canceled /
 * retry.requested, kept forever), log lines, BullMQ's failedReason and stacktrace (kept for
 * days, shown on the dashboard). It may quote a remote reply, and a remote server or a
 * template may have put a code or an address in it. Everything that leaves goes through
 * publicReason(): herald's own message (which names the class of failure) with whatever
 * could be a code, a secret, an address or a URL masked, control characters removed, and
 * the whole cut short.
 */

/** Longest public reason. */
export const MAX_PUBLIC_REASON = 300;
/** Input is cut to this before any pattern runs, so masking is linear and bounded. */
const MAX_SCANNED = 2000;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const URL_LIKE = /\b[a-z][a-z0-9+.-]{1,20}:\/\/\S+/gi;
const ADDRESS_LIKE = /[^\s<>@'"]+@[^\s<>'"]+/g;
const DIGIT_RUN = /\d{4,}/g;
const TOKEN = /[A-Za-z0-9]{6,}/g;
const HERALD_CODE = /^[A-Z][A-Z_]{1,40}$/;

/** A token that could be a code: a letter-and-digit mix of six or more characters. */
function codeLike(token: string): boolean {
  return /\d/.test(token) && /[A-Za-z]/.test(token);
}

/**
 * Makes a remote or error text safe to show: cut, secrets in `hide` masked, control
 * characters removed, URLs, addresses, digit runs of four or more and code-like tokens masked.
 */
export function sanitizeText(text: string, max = MAX_PUBLIC_REASON, hide: readonly unknown[] = []): string {
  let s = text.length > MAX_SCANNED ? text.slice(0, MAX_SCANNED) : text;
  for (const secret of hide) {
    if (typeof secret === 'string' && secret.length >= 4) s = s.split(secret).join('<hidden>');
  }
  s = s
    .replace(CONTROL, ' ')
    .replace(URL_LIKE, '<url>')
    .replace(ADDRESS_LIKE, '<address>')
    .replace(DIGIT_RUN, '<number>')
    .replace(TOKEN, (t) => (codeLike(t) ? '<code>' : t))
    .replace(/ {2,}/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** herald's (or a library's) symbolic error code, e.g. SMTP_REJECTED or ECONNREFUSED; never a value. */
export function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && HERALD_CODE.test(code) ? code : undefined;
}

/** The class name of an error, if it looks like one. */
export function errorClass(err: unknown): string {
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(name) ? name : 'Error';
}

/**
 * The reason written to events, logs and failedReason for any error. herald's own errors keep
 * their message (which says what failed), sanitised; anything else is named by its class with
 * a short sanitised excerpt. `hide` lists secrets of this notification (its code) to mask
 * wherever they appear.
 */
export function publicReason(err: unknown, hide: readonly unknown[] = []): string {
  if (err instanceof HeraldError) return sanitizeText(err.message, MAX_PUBLIC_REASON, hide) || err.code;
  if (typeof err === 'string') return `Error: ${sanitizeText(err, 200, hide)}`;
  if (!(err instanceof Error)) return 'Error: non-error thrown';
  return `${errorClass(err)}: ${sanitizeText(err.message, 200, hide)}`;
}

/**
 * An error to hand to a library that stores its message (BullMQ's failedReason and stack):
 * same class name (BullMQ classifies by name), public reason as message, no cause.
 */
export function publicError(err: unknown): Error {
  const safe = new Error(err instanceof HeraldError ? publicReason(err) : publicReason(err).replace(/^[A-Za-z0-9_]+: /, ''));
  safe.name = errorClass(err);
  return safe;
}
