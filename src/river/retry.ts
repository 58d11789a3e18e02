/**
 * How a failed River attempt ends, as River's job executor ends it (reportError):
 * attempts exhausted → `discarded`; otherwise `scheduled_at = now + delay`, `available`
 * when the delay is within River's scheduler interval, else `retryable`.
 */
import type { BackoffSettings } from '../queue/backoff.js';
import { nextBackoffMs } from '../queue/backoff.js';
import { SCHEDULER_INTERVAL_MS } from './schema.js';
import type { FinishState } from './sql.js';

/** River's DefaultClientRetryPolicy: (len(errors)+1)^4 seconds, ±10 % jitter. */
export function riverDefaultDelayMs(errorCount: number, random: () => number = Math.random): number {
  const base = Math.pow(errorCount + 1, 4);
  return (base + base * (random() * 0.2 - 0.1)) * 1000;
}

/**
 * herald's own policy (the operator set MinRetryDelay/MaxRetryDelay/RetryDelayFactor):
 * ZITADEL's v2.66 backoff, grown once per earlier error.
 */
export function configuredDelayMs(errorCount: number, cfg: BackoffSettings, random: () => number = Math.random): number {
  let delay = 0;
  for (let i = 0; i <= errorCount; i++) delay = nextBackoffMs(delay, cfg, random);
  return delay;
}

export interface RetryPlan {
  readonly state: Extract<FinishState, 'discarded' | 'available' | 'retryable'>;
  readonly scheduledAt?: Date;
  readonly delayMs?: number;
}

export function planRetry(
  job: { attempt: number; maxAttempts: number; errorCount: number },
  policy: { kind: 'river' } | { kind: 'herald'; cfg: BackoffSettings },
  now: number = Date.now(),
): RetryPlan {
  if (job.attempt >= job.maxAttempts) return { state: 'discarded' };
  const delayMs = policy.kind === 'river' ? riverDefaultDelayMs(job.errorCount) : configuredDelayMs(job.errorCount, policy.cfg);
  return {
    state: delayMs <= SCHEDULER_INTERVAL_MS ? 'available' : 'retryable',
    scheduledAt: new Date(now + delayMs),
    delayMs,
  };
}
