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

/** The provider throttled us; retry later. */
export class RateLimitedError extends HeraldError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
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
