/**
 * The decision of one attempt, as a pure function of what was gathered: no I/O, no clock, no
 * randomness (the time and the retry delay come in as facts). The pipeline asks it twice:
 * before sending (cancel, not due, or go ahead) and after (sent, retry, throttled, cancel).
 * ZITADEL's reduceNotificationRequested / reduceNotificationRetry checks, in their order.
 */
import { formatGoDuration } from '../config/duration.js';
import { isPermanent, isRateLimited, publicReason } from '../errors.js';
import type { NotificationRequest, NotifyUser } from '../eventstore/notification-types.js';
import type { InstanceSettings } from '../instance/types.js';
import type { Loaded } from './attempt.js';
import { policyRefusal } from './instance.js';
import { withPreviousDomain } from './message.js';
import { sentEventFor } from './sent-events.js';

/** A step that failed: gathering (settings, user), rendering (channel, texts, message) or sending. */
export interface Failure {
  readonly stage: 'gather' | 'render' | 'send';
  readonly error: Error;
  /** The attempt was cut short by this process shutting down (not by the provider). */
  readonly released: boolean;
}

export interface Facts {
  readonly loaded: Loaded;
  /** When the attempt started (epoch ms); the same for both questions. */
  readonly now: number;
  readonly maxTtlMs: number;
  /** The instance's settings for the user's organisation; undefined when gathering failed. */
  readonly settings: InstanceSettings | undefined;
  /** undefined: the user does not exist (or was not loaded because gathering failed). */
  readonly user: NotifyUser | undefined;
  /** The retry policy's next delay, used for a retry or a throttled send. */
  readonly retryDelayMs: number;
  /** Absent before sending; `ok` after a successful send. */
  readonly send?: { readonly ok: true } | { readonly ok: false; readonly failure: Failure };
  /** Gathering or rendering failed with a PermanentError. */
  readonly failure?: Failure;
  /** Values masked in any reason taken from an error (the rendered code). */
  readonly hide?: readonly unknown[];
}

export type CancelReason =
  'malformed' | 'expired' | 'instance-removed' | 'user-missing' | 'no-sent-handler' | 'policy' | 'permanent' | 'last-attempt';

export type Decision =
  | { readonly kind: 'missing' }
  | { readonly kind: 'finished' }
  | { readonly kind: 'not-due'; readonly delayMs: number }
  | { readonly kind: 'cancel'; readonly reason: CancelReason; readonly error: string }
  /** Go ahead: render and send `request` (the previous domain filled in). */
  | { readonly kind: 'send'; readonly request: NotificationRequest; readonly user: NotifyUser }
  /** Delivered (now or by an earlier try): record it. */
  | { readonly kind: 'write-sent'; readonly request: NotificationRequest; readonly user: NotifyUser }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly error: string; readonly request: NotificationRequest; readonly user: NotifyUser }
  | { readonly kind: 'throttled'; readonly delayMs: number; readonly error: string }
  /** Aborted at shutdown: not an attempt; the job goes back for another replica. */
  | { readonly kind: 'release'; readonly error: Error };

const cancel = (reason: CancelReason, error: string): Decision => ({ kind: 'cancel', reason, error });

export function decide(f: Facts): Decision {
  const { loaded } = f;
  if (loaded.kind === 'missing' || loaded.kind === 'finished') return { kind: loaded.kind };
  if (loaded.kind === 'malformed') return cancel('malformed', publicReason(loaded.error));
  const { attempt } = loaded;
  if (attempt.since.getTime() + f.maxTtlMs < f.now) {
    return cancel('expired', `notification expired: not delivered within MaxTtl (${formatGoDuration(f.maxTtlMs)})`);
  }
  if (attempt.dueAt > f.now) return { kind: 'not-due', delayMs: attempt.dueAt - f.now };
  if (f.failure?.stage === 'gather') return cancel('permanent', publicReason(f.failure.error, f.hide));
  const delivered = attempt.delivered !== undefined;
  // instance.removed: ZITADEL stops handling the instance. What already left is still recorded.
  if (f.settings?.removed && !delivered) {
    return cancel('instance-removed', 'the instance was removed (instance.removed): nothing is sent for it');
  }
  if (!f.user) return cancel('user-missing', `user ${attempt.request.userID} not found`);
  const user = f.user;
  const request = withPreviousDomain(attempt.request, user);
  // Known before sending: a trigger type with no sent handler is canceled, as in ZITADEL.
  if (!sentEventFor(attempt.instanceId, request, attempt.delivered ?? {})) {
    return cancel('no-sent-handler', `no sent handler for event type ${request.eventType}`);
  }
  // Once delivered, only the write-back is left: a policy changed since then changes nothing.
  if (delivered) return { kind: 'write-sent', request, user };
  const refusal = policyRefusal(request, f.settings);
  if (refusal) return cancel('policy', refusal);
  if (f.failure) return cancel('permanent', publicReason(f.failure.error, f.hide));
  if (!f.send) return { kind: 'send', request, user };
  if (f.send.ok) return { kind: 'write-sent', request, user };

  const { failure } = f.send;
  if (failure.released) return { kind: 'release', error: failure.error };
  if (isPermanent(failure.error)) return cancel('permanent', publicReason(failure.error, f.hide));
  // Throttled: the provider is busy, the message is fine. Wait without using an attempt
  // (MaxTtl still bounds how long it may wait).
  if (isRateLimited(failure.error)) {
    return { kind: 'throttled', delayMs: throttleDelayMs(failure.error, f.retryDelayMs), error: publicReason(failure.error, f.hide) };
  }
  if (attempt.number >= attempt.maxAttempts) return cancel('last-attempt', publicReason(failure.error, f.hide));
  return { kind: 'retry', delayMs: f.retryDelayMs, error: publicReason(failure.error, f.hide), request, user };
}

/** Longest wait a provider's Retry-After (or an open breaker) can impose on one notification. */
export const MAX_THROTTLE_DELAY_MS = 5 * 60_000;

/** A throttle's delay: the provider's Retry-After (or the breaker's cool-down) when given, bounded; else the retry policy's. */
export function throttleDelayMs(err: Error, retryDelayMs: number): number {
  const after = (err as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof after !== 'number' || !Number.isFinite(after) || after < 0) return retryDelayMs;
  return Math.min(after, MAX_THROTTLE_DELAY_MS);
}
