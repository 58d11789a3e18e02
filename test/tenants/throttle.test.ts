/**
 * Throttle classification per provider (issue #15): every "slow down" answer becomes a
 * RateLimitedError with code PROVIDER_THROTTLED (Retry-After kept as retryAfterMs, bounded),
 * and nothing else does. The breaker's notion of "no answer" is checked on the same errors.
 */
import { describe, expect, it } from 'vitest';

import { statusError, transportError } from '../../src/channels/http-outcome.js';
import { classifySmtpError, isSmtpThrottle } from '../../src/channels/smtp-errors.js';
import { classifySnsError } from '../../src/channels/sns.js';
import { classifyTwilioError } from '../../src/channels/twilio.js';
import { BreakerOpenError, errorCode, isPermanent, isRateLimited, RateLimitedError } from '../../src/errors.js';
import { isConnectionFailure } from '../../src/limits/guard.js';
import { HttpTransportError } from '../../src/net/http.js';
import { throttleDelayMs } from '../../src/worker/decide.js';

type Kind = 'throttled' | 'permanent' | 'retry';
const kindOf = (err: unknown): Kind => (isRateLimited(err) ? 'throttled' : isPermanent(err) ? 'permanent' : 'retry');

const smtpError = (responseCode: number | undefined, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { code: 'EENVELOPE', responseCode, command: 'DATA', ...extra });

describe('SMTP (deployment SMTP_URL, SES SMTP, tenant SMTP servers)', () => {
  it.each<[number | undefined, string, Kind]>([
    [454, '454 Throttling failure: Maximum sending rate exceeded.', 'throttled'],
    [454, '454 Throttling failure: Daily message quota exceeded.', 'throttled'],
    [421, '421 4.7.28 Our system has detected an unusually high rate of unsolicited mail', 'throttled'],
    [421, '421 Too many concurrent SMTP connections; please try again later', 'throttled'],
    [450, '450 4.7.1 Rate limit exceeded, slow down', 'throttled'],
    [451, '451 4.7.1 Sending rate-limit reached', 'throttled'],
    [451, '451 4.7.1 Greylisted, please try again later', 'retry'],
    [450, '450 4.2.0 Mailbox busy', 'retry'],
    [452, '452 Too many recipients', 'retry'],
    [550, '550 5.7.1 Too many messages, rate limit exceeded', 'permanent'],
    [554, '554 Message rejected', 'permanent'],
  ])('%s %s → %s', (responseCode, message, kind) => {
    const err = classifySmtpError(smtpError(responseCode, message));
    expect(kindOf(err)).toBe(kind);
    if (kind === 'throttled') expect(errorCode(err)).toBe('PROVIDER_THROTTLED');
  });

  it('a throttle answer to the greeting or EHLO is a throttle, not an outage', () => {
    const err = classifySmtpError(smtpError(421, '421 Too many connections from your IP', { command: 'CONN', code: 'EPROTOCOL' }));
    expect(errorCode(err)).toBe('PROVIDER_THROTTLED');
  });

  it('checks a bounded prefix of the reply in linear time', () => {
    const huge = 'x'.repeat(1_000_000) + ' rate limit';
    const started = Date.now();
    expect(isSmtpThrottle(421, huge)).toBe(false);
    expect(isSmtpThrottle(421, `421 rate limit ${'y'.repeat(1_000_000)}`)).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('connection failures and timeouts count for the breaker; answers do not', () => {
    expect(isConnectionFailure(classifySmtpError(Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT', command: 'CONN' })))).toBe(
      true,
    );
    expect(isConnectionFailure(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' })))).toBe(true);
    expect(isConnectionFailure(classifySmtpError(smtpError(451, '451 try later')))).toBe(false);
    expect(isConnectionFailure(classifySmtpError(smtpError(554, '554 no')))).toBe(false);
  });
});

const awsError = (name: string, status: number, message = 'x') =>
  Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

describe('SNS (the deployment SMS provider)', () => {
  it.each<[string, number, string, Kind]>([
    ['Throttling', 400, 'Rate exceeded', 'throttled'],
    ['ThrottlingException', 400, 'Rate exceeded', 'throttled'],
    ['ThrottledException', 400, 'Rate exceeded', 'throttled'],
    ['Unknown', 400, 'Rate exceeded', 'throttled'],
    ['TooManyRequestsException', 429, 'x', 'throttled'],
    ['InvalidParameter', 400, 'Invalid parameter: PhoneNumber', 'permanent'],
    ['InternalError', 500, 'Internal service error', 'retry'],
  ])('%s (HTTP %s, %s) → %s', (name, status, message, kind) => {
    const err = classifySnsError(awsError(name, status, message));
    expect(kindOf(err)).toBe(kind);
    if (kind === 'throttled') expect(errorCode(err)).toBe('PROVIDER_THROTTLED');
  });

  it('a publish that never got an answer counts for the breaker', () => {
    expect(isConnectionFailure(classifySnsError(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED' })))).toBe(
      true,
    );
    expect(isConnectionFailure(classifySnsError(awsError('InternalError', 500)))).toBe(false);
  });
});

describe('Twilio (tenant SMS provider)', () => {
  const signal = new AbortController().signal;
  const twilioError = (status: number, code?: number) => Object.assign(new Error('twilio'), { status, ...(code === undefined ? {} : { code }) });
  it.each<[number, number | undefined, Kind]>([
    [429, 20429, 'throttled'],
    [429, undefined, 'throttled'],
    [400, 20429, 'throttled'],
    [429, 60203, 'permanent'],
    [400, 21211, 'permanent'],
    [503, undefined, 'retry'],
  ])('HTTP %s code %s → %s', (status, code, kind) => {
    const err = classifyTwilioError(twilioError(status, code), signal);
    expect(kindOf(err)).toBe(kind);
    if (kind === 'throttled') expect(errorCode(err)).toBe('PROVIDER_THROTTLED');
  });
});

describe('HTTP: the webhook and the tenant HTTP providers', () => {
  const answer = (status: number, headers: Record<string, string> = {}) => ({
    status,
    header: (n: string) => headers[n],
    body: Buffer.alloc(0),
    bytesRead: 0,
    truncated: false,
  });
  for (const labels of [
    { code: 'WEBHOOK', what: 'webhook' },
    { code: 'HTTP_PROVIDER', what: 'http provider' },
  ]) {
    it(`${labels.what}: 429 is a throttle with Retry-After in seconds or as a date; 503 and 400 are not`, () => {
      const secs = statusError(labels, answer(429, { 'retry-after': '7' }) as never);
      expect(errorCode(secs)).toBe('PROVIDER_THROTTLED');
      expect((secs as RateLimitedError).retryAfterMs).toBe(7000);
      const date = statusError(labels, answer(429, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() }) as never);
      expect((date as RateLimitedError).retryAfterMs).toBeGreaterThan(55_000);
      const bare = statusError(labels, answer(429) as never);
      expect((bare as RateLimitedError).retryAfterMs).toBeUndefined();
      const garbage = statusError(labels, answer(429, { 'retry-after': '9'.repeat(500) }) as never);
      expect((garbage as RateLimitedError).retryAfterMs).toBeUndefined();
      expect(kindOf(statusError(labels, answer(503) as never))).toBe('retry');
      expect(kindOf(statusError(labels, answer(400) as never))).toBe('permanent');
    });

    it(`${labels.what}: timeouts and refused connections count for the breaker, a 503 does not`, () => {
      expect(isConnectionFailure(transportError(labels, new HttpTransportError('timeout', undefined), 1000))).toBe(true);
      expect(isConnectionFailure(transportError(labels, new HttpTransportError('network', 'ECONNREFUSED'), 1000))).toBe(true);
      expect(isConnectionFailure(statusError(labels, answer(503) as never))).toBe(false);
    });
  }
});

describe('the throttled decision waits for Retry-After, bounded', () => {
  it('uses Retry-After or the breaker cool-down, at most 5 minutes, else the retry policy', () => {
    expect(throttleDelayMs(new RateLimitedError('PROVIDER_THROTTLED', 't', { retryAfterMs: 7000 }), 1000)).toBe(7000);
    expect(throttleDelayMs(new RateLimitedError('PROVIDER_THROTTLED', 't', { retryAfterMs: 3_600_000 }), 1000)).toBe(300_000);
    expect(throttleDelayMs(new RateLimitedError('PROVIDER_THROTTLED', 't'), 1000)).toBe(1000);
    expect(throttleDelayMs(new BreakerOpenError('open', 12_000), 1000)).toBe(12_000);
  });
});
