/**
 * What an HTTP answer (or its absence) means, shared by herald's webhook and the instances'
 * HTTP providers. Errors carry herald's own code and a fixed text with the status number;
 * the remote status line, headers and body never reach an error, an event or a log.
 */
import { HeraldError, isPermanent, PermanentError, RateLimitedError } from '../errors.js';
import type { HttpAnswer } from '../net/http.js';
import { HttpTransportError } from '../net/http.js';

export interface HttpLabels {
  /** Code prefix: `WEBHOOK`, `HTTP_PROVIDER`. */
  readonly code: string;
  /** Words for messages: `webhook`, `http provider`. */
  readonly what: string;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value.length > 64) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Undefined for a 2xx; else the error: 429 rate-limited, 408/5xx retried, 3xx and other 4xx canceled. */
export function statusError(labels: HttpLabels, answer: HttpAnswer): Error | undefined {
  const { status } = answer;
  if (status >= 200 && status < 300) return undefined;
  if (status === 429) {
    const wait = retryAfterMs(answer.header('retry-after'));
    const err = new RateLimitedError(
      'PROVIDER_THROTTLED',
      `${labels.what} answered 429 Too Many Requests`,
      wait === undefined ? {} : { retryAfterMs: wait },
    );
    return Object.assign(err, { status });
  }
  if (status >= 500 || status === 408) {
    return Object.assign(new HeraldError(`${labels.code}_UNAVAILABLE`, `${labels.what} answered ${status}`), { status });
  }
  // 3xx: a redirect is not followed (a POST must not wander, nor reach where the egress rule
  // did not look), so it can never succeed either; other 4xx reject the notification.
  return Object.assign(new PermanentError(`${labels.code}_REJECTED`, `${labels.what} rejected the notification with ${status}`), {
    status,
  });
}

/** A failure before any status arrived; an egress refusal (permanent) passes through unchanged. */
export function transportError(labels: HttpLabels, err: unknown, timeoutMs: number): Error {
  if (isPermanent(err)) return err;
  if (err instanceof HttpTransportError) {
    if (err.reason === 'timeout') return new HeraldError(`${labels.code}_TIMEOUT`, `${labels.what} did not answer within ${timeoutMs} ms`);
    if (err.reason === 'connect-timeout') return new HeraldError(`${labels.code}_TIMEOUT`, `${labels.what} could not be connected to in time`);
    if (err.reason === 'aborted') return new HeraldError(`${labels.code}_ABORTED`, `${labels.what} request aborted`);
    return new HeraldError(`${labels.code}_UNAVAILABLE`, `${labels.what} request failed: ${err.sysCode ?? 'network error'}`);
  }
  return new HeraldError(`${labels.code}_UNAVAILABLE`, `${labels.what} request failed`);
}
