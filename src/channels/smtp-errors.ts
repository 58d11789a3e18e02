/**
 * The SMTP channels' edge (house style §10): classify nodemailer errors once, and keep
 * untrusted strings from ever becoming mail headers.
 */
import addressparser from 'nodemailer/lib/addressparser';

import { coerceError, HeraldError, PermanentError, RateLimitedError, sanitizeText } from '../errors.js';

/** A permanent rejection, with the SMTP reply code kept for the canceled event's reason. */
export type SmtpRejectedError = PermanentError & { readonly responseCode: number };

/** A retryable SMTP failure; `responseCode` is set when the server replied (4xx, 503, ...). */
export type SmtpTransientError = HeraldError & { readonly responseCode?: number };

interface NodemailerLikeError {
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly command?: unknown;
}

/**
 * Failures of the connection or of our own configuration: the message itself was not judged,
 * so retrying (after the operator fixes the server or credentials) can succeed. A 5xx from
 * AUTH or STARTTLS lands here too: cancelling every notification because the SMTP password
 * is wrong would lose them all for a deployment mistake.
 */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPROXY',
  'EAUTH',
  'ENOAUTH',
  'EOAUTH2',
  'EREQUIRETLS',
  'EMAXLIMIT',
]);

/**
 * Replies to these commands judge the session (our IP, our credentials, TLS), not the message:
 * a 554 greeting or a 5xx to EHLO is retried like a connection failure.
 */
const SESSION_COMMANDS = /^(CONN|EHLO|HELO|LHLO|STARTTLS|AUTH)\b/i;

/** Local rejections of the envelope before anything was sent: the address is unusable. */
const BAD_ENVELOPE_CODES = new Set(['EENVELOPE', 'EMAXRECIPIENTS']);

/** Longest excerpt of a server reply kept in a reason. */
export const MAX_REPLY_EXCERPT = 120;

/**
 * Server replies often quote the recipient ("550 5.1.1 <bob@x>: unknown user") or even the
 * message; the error text ends up in logs and in the `notification.canceled` event. The
 * reply (up to 1 MiB, chosen by whoever runs the server) is cut first, then addresses, URLs,
 * digit runs and code-like tokens are masked (errors.ts sanitizeText), all in linear time:
 * the former address regex ran over the whole reply and was quadratic (40 KB took 5 s).
 */
function scrub(text: string): string {
  return sanitizeText(text, MAX_REPLY_EXCERPT);
}

function fields(err: unknown): { code?: string; responseCode?: number; command?: string } {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as NodemailerLikeError;
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
    ...(typeof e.command === 'string' ? { command: e.command } : {}),
  };
}

/**
 * RFC 5321: every 5yz reply is a permanent negative completion, except 503 (bad sequence of
 * commands), which says the session was in the wrong state, not that the message was refused.
 */
function isPermanentReply(responseCode: number): boolean {
  return responseCode >= 500 && responseCode < 600 && responseCode !== 503;
}

/** Reply codes a server uses to say "slow down" (with rate wording, below). */
const THROTTLE_REPLY_CODES = new Set([421, 450, 451, 454]);

/**
 * Words of a throttle reply: SES "454 Throttling failure: Maximum sending rate exceeded",
 * Gmail "421 4.7.28 … unusually high rate", Postfix/Exchange "421 Too many connections",
 * "450 4.7.1 Rate limit exceeded", "451 Slow down". Plain substrings, no pattern.
 */
const THROTTLE_WORDS = ['throttl', 'rate limit', 'rate exceeded', 'sending rate', 'high rate', 'too many', 'slow down', 'rate-limit', 'ratelimit'];

/** Longest part of a reply looked at for throttle words: the check is linear and bounded. */
const THROTTLE_SCAN = 512;

/**
 * Whether an SMTP failure is a throttle: a 421/450/451/454 reply whose text names a rate.
 * A greylisting 450/451 ("try again later") is not one: it is retried like any 4xx.
 */
export function isSmtpThrottle(responseCode: number | undefined, text: string): boolean {
  if (responseCode === undefined || !THROTTLE_REPLY_CODES.has(responseCode)) return false;
  const head = text.slice(0, THROTTLE_SCAN).toLowerCase();
  return THROTTLE_WORDS.some((w) => head.includes(w));
}

/**
 * Maps whatever nodemailer threw to herald's error classes. The original error is not kept as
 * `cause` because its message and `rejected`/`recipient` fields carry the recipient address;
 * the useful parts (nodemailer code, reply code, command) are copied instead.
 */
export function classifySmtpError(err: unknown): Error {
  const { code, responseCode, command } = fields(err);
  const where = [code, command].filter(Boolean).join(' ');
  const detail = scrub(`${where ? `${where}: ` : ''}${coerceError(err).message}`);

  if (code === 'EABORT' || (err instanceof Error && err.name === 'AbortError')) {
    return Object.assign(new HeraldError('SMTP_ABORTED', `SMTP send aborted: ${detail}`), {
      ...(responseCode === undefined ? {} : { responseCode }),
    });
  }
  if (isSmtpThrottle(responseCode, coerceError(err).message)) {
    return Object.assign(new RateLimitedError('PROVIDER_THROTTLED', `SMTP ${responseCode} throttled: ${detail}`), { responseCode });
  }
  if ((code !== undefined && CONNECTION_CODES.has(code)) || (command !== undefined && SESSION_COMMANDS.test(command))) {
    const transient = new HeraldError('SMTP_UNAVAILABLE', `SMTP server unavailable: ${detail}`);
    return responseCode === undefined ? transient : Object.assign(transient, { responseCode });
  }
  if (responseCode !== undefined) {
    if (isPermanentReply(responseCode)) {
      const rejected = new PermanentError('SMTP_REJECTED', `SMTP ${responseCode} rejected: ${detail}`);
      return Object.assign(rejected, { responseCode }) satisfies SmtpRejectedError;
    }
    const transient = new HeraldError('SMTP_TEMPORARY', `SMTP ${responseCode} temporary failure: ${detail}`);
    return Object.assign(transient, { responseCode }) satisfies SmtpTransientError;
  }
  if (code !== undefined && BAD_ENVELOPE_CODES.has(code)) {
    return new PermanentError('BAD_ADDRESS', `SMTP envelope refused: ${detail}`);
  }
  // Unknown: retryable by default (errors.ts), still without the raw message's address.
  return new HeraldError('SMTP_FAILED', `SMTP send failed: ${detail}`);
}

const CRLF = /[\r\n]/;
const MAX_ADDRESS_LENGTH = 998;

/**
 * Rejects anything but exactly one mailbox without CR/LF. A CR/LF could start a new header,
 * and a list ("a@x, evil@y") would send the code to a second recipient.
 */
export function assertSafeAddress(value: string, field: 'to' | 'from' | 'reply-to'): string {
  // One header line at most (RFC 5322): the parser below is not meant for megabytes.
  if (value.length > MAX_ADDRESS_LENGTH) throw new PermanentError('BAD_ADDRESS', `${field} address is too long`);
  if (CRLF.test(value)) {
    throw new PermanentError('BAD_ADDRESS', `${field} address contains a line break`);
  }
  const parsed = addressparser(value, { flatten: true });
  const only = parsed[0];
  if (parsed.length !== 1 || only === undefined || !only.address || !only.address.includes('@')) {
    throw new PermanentError('BAD_ADDRESS', `${field} must be exactly one email address`);
  }
  return value.trim();
}

/** Folds any line break in a subject into a space so it can never start another header. */
export function safeSubject(subject: string): string {
  return subject.replace(/[\r\n]+/g, ' ');
}

/** For header values built from ids we do not control (outbox X-Herald-* headers). */
export function safeHeaderValue(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').slice(0, 200);
}
