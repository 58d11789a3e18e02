/**
 * ZITADEL's retry delay (notification_worker.go exponentialBackOff), in milliseconds:
 * the next delay is uniform in [current, factor·current), current at least MinRetryDelay,
 * capped at MaxRetryDelay, where current is the previous delay.
 *
 * Difference on purpose: ZITADEL panics for a factor of exactly 1 (rand.Int64N(0));
 * herald then keeps the delay constant.
 */
import type { NotificationsConfig } from '../config/types.js';

export type BackoffSettings = Pick<NotificationsConfig, 'minRetryDelayMs' | 'maxRetryDelayMs' | 'retryDelayFactor'>;

export function nextBackoffMs(currentMs: number, cfg: BackoffSettings, random: () => number = Math.random): number {
  const { minRetryDelayMs: min, maxRetryDelayMs: max, retryDelayFactor: factor } = cfg;
  if (currentMs >= max) return max;
  const current = Math.max(currentMs, min);
  if (factor <= 1) return Math.min(current, max);
  const span = factor * current - current;
  const delay = current + Math.floor(random() * span);
  return Math.min(delay, max);
}

/** Go time.Duration (JSON integer nanoseconds) ⇄ milliseconds. */
export function msToNs(ms: number): number {
  return Math.round(ms * 1_000_000);
}

export function nsToMs(ns: number): number {
  return ns / 1_000_000;
}
