import { describe, expect, it } from 'vitest';

import { HeraldError, PermanentError, RateLimitedError } from '../../src/errors.js';
import { failureClass } from '../../src/worker/result-class.js';

class BreakerOpenError extends RateLimitedError {
  constructor() {
    super('BREAKER_OPEN', 'the provider is failing; not tried');
  }
}

describe('failureClass', () => {
  it.each([
    ['a provider throttle', new RateLimitedError('PROVIDER_THROTTLED', 'slow down'), 'send', 'throttled'],
    ['an open breaker (a RateLimitedError subclass)', new BreakerOpenError(), 'send', 'breaker-open'],
    ['herald pacing a provider lane', new RateLimitedError('PROVIDER_PACED', 'wait'), 'send', 'paced'],
    ['a provider rejection', new PermanentError('SMTP_REJECTED', '550'), 'send', 'rejected'],
    ['the egress rule', new PermanentError('EGRESS_REFUSED', 'private'), 'send', 'refused'],
    ['the flood guard', new PermanentError('RECIPIENT_LIMIT', 'too many'), 'render', 'refused'],
    ['an aborted SMTP send', new HeraldError('SMTP_ABORTED', 'aborted'), 'send', 'timeout'],
    ['a timeout code', Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'send', 'timeout'],
    ['a refused connection', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'send', 'unreachable'],
    ['an unavailable provider', new HeraldError('SNS_UNAVAILABLE', 'x'), 'send', 'unreachable'],
    ['anything else sent', new Error('odd'), 'send', 'failed'],
    ['a permanent gather failure', new PermanentError('USER_BROKEN', 'x'), 'gather', 'not-sent'],
  ] as const)('%s is %s', (_name, err, stage, expected) => {
    expect(failureClass(err, stage)).toBe(expected);
  });

  it('never reads the message', () => {
    expect(failureClass(new Error('ETIMEDOUT ECONNREFUSED throttled 429'), 'send')).toBe('failed');
  });
});
