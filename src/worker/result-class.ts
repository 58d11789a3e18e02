/**
 * The result class of one attempt: what the delivery history, the metrics and the outcome log
 * lines call it. A bounded set, derived from herald's error classes and symbolic codes (never
 * from an error's message, which may quote remote text).
 */
import { errorCode, isPermanent, isRateLimited } from '../errors.js';

export const RESULT_CLASSES = [
  /** The provider took the message. */
  'accepted',
  /** The provider said slow down (RateLimitedError): tried again later, no attempt used. */
  'throttled',
  /** herald did not try: the provider's circuit breaker is open. */
  'breaker-open',
  /** herald held the send back to keep the provider's rate lane (PROVIDER_PACED); not a send. */
  'paced',
  /** The provider refused this message (a PermanentError from the send). */
  'rejected',
  /** No answer in time. */
  'timeout',
  /** Connection refused or reset, DNS, TLS. */
  'unreachable',
  /** herald's own policy refused before sending: egress rule, invalid settings, flood guard, login policy. */
  'refused',
  /** Any other transient failure. */
  'failed',
  /** Canceled before a send was due: user missing, expired, malformed, instance removed. */
  'not-sent',
] as const;

export type ResultClass = (typeof RESULT_CLASSES)[number];

/** Codes of herald's own refusals (checked before anything is sent). */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'EGRESS_REFUSED',
  'PROVIDER_SETTINGS_INVALID',
  'PROVIDER_SECRET_MISSING',
  'PROVIDER_SECRET_UNREADABLE',
  'SMTP_HOST_INVALID',
  'RECIPIENT_LIMIT',
  'NO_PROVIDER',
  'NO_ADDRESS',
  'BAD_ADDRESS',
  'INVALID_PHONE',
  'NO_SENDER',
  'TEMPLATE_BUDGET',
  'TEMPLATE_INVALID',
  'MAIL_TEMPLATE_UNSUPPORTED',
  'UNKNOWN_MESSAGE_TYPE',
  'BAD_ORIGIN',
  'EMPTY_MESSAGE',
]);
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ETIMEOUT', 'ESOCKETTIMEDOUT', 'EABORT', 'ABORT_ERR', 'UND_ERR_CONNECT_TIMEOUT']);
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNECTION',
  'ESOCKET',
  'EDNS',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETLS',
  'CHANNEL_CLOSED',
]);

/** The class of a failed step (gather/render failures are refusals or not-sent; sends by code). */
export function failureClass(err: unknown, stage: 'gather' | 'render' | 'send'): ResultClass {
  const code = errorCode(err) ?? '';
  if (code === 'BREAKER_OPEN') return 'breaker-open';
  if (code === 'PROVIDER_PACED') return 'paced';
  if (isRateLimited(err)) return 'throttled';
  if (REFUSAL_CODES.has(code)) return 'refused';
  if (stage !== 'send') return isPermanent(err) ? 'not-sent' : 'failed';
  if (isPermanent(err)) return 'rejected';
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  if (TIMEOUT_CODES.has(code) || code.endsWith('_ABORTED') || code.endsWith('_TIMEOUT') || name === 'TimeoutError' || name === 'AbortError') {
    return 'timeout';
  }
  if (UNREACHABLE_CODES.has(code) || code.endsWith('_UNAVAILABLE')) return 'unreachable';
  return 'failed';
}
