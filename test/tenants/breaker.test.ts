/** The circuit breaker's state machine (src/limits/breaker.ts), with a test clock. */
import { describe, expect, it } from 'vitest';

import { BreakerOpenError, isBreakerOpen, isRateLimited } from '../../src/errors.js';
import { makeBreakers } from '../../src/limits/breaker.js';

function setup() {
  let t = 1_000_000;
  const breakers = makeBreakers({ threshold: 5, coolDownMs: 30_000, now: () => t });
  return { breakers, advance: (ms: number) => (t += ms) };
}

const thrown = (fn: () => void): unknown => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
};

describe('circuit breaker', () => {
  it('opens after 5 consecutive connection failures and fails fast with BREAKER_OPEN, a RateLimitedError', () => {
    const { breakers } = setup();
    for (let i = 0; i < 4; i++) {
      breakers.admit('p', 'smtp');
      breakers.failed('p');
    }
    expect(breakers.state('p')).toBe('closed');
    breakers.admit('p', 'smtp');
    breakers.failed('p');
    expect(breakers.state('p')).toBe('open');
    const err = thrown(() => breakers.admit('p', 'smtp'));
    expect(err).toBeInstanceOf(BreakerOpenError);
    expect(isRateLimited(err)).toBe(true);
    expect(isBreakerOpen(err)).toBe(true);
    expect((err as BreakerOpenError).code).toBe('BREAKER_OPEN');
    expect((err as BreakerOpenError).retryAfterMs).toBe(30_000);
    expect(breakers.openByKind().get('smtp')).toBe(1);
  });

  it('an answer in between resets the count', () => {
    const { breakers } = setup();
    for (let i = 0; i < 4; i++) breakers.failed('p');
    breakers.admit('p', 'sns');
    for (let i = 0; i < 4; i++) breakers.failed('p');
    breakers.answered('p');
    for (let i = 0; i < 4; i++) breakers.failed('p');
    expect(breakers.state('p')).toBe('closed');
  });

  it('lets one probe through after the cool-down; success closes it', () => {
    const { breakers, advance } = setup();
    breakers.admit('p', 'http');
    for (let i = 0; i < 5; i++) breakers.failed('p');
    advance(10_000);
    expect((thrown(() => breakers.admit('p', 'http')) as BreakerOpenError).retryAfterMs).toBe(20_000);
    advance(20_000);
    expect(thrown(() => breakers.admit('p', 'http'))).toBeUndefined();
    expect(breakers.state('p')).toBe('half-open');
    // Only one probe at a time.
    expect(isBreakerOpen(thrown(() => breakers.admit('p', 'http')))).toBe(true);
    breakers.answered('p');
    expect(breakers.state('p')).toBe('closed');
    expect(thrown(() => breakers.admit('p', 'http'))).toBeUndefined();
    expect(breakers.openByKind().size).toBe(0);
  });

  it('a failed probe opens it for another cool-down; an abandoned probe is given back', () => {
    const { breakers, advance } = setup();
    breakers.admit('p', 'twilio');
    for (let i = 0; i < 5; i++) breakers.failed('p');
    advance(30_000);
    breakers.admit('p', 'twilio');
    breakers.failed('p');
    expect(breakers.state('p')).toBe('open');
    expect((thrown(() => breakers.admit('p', 'twilio')) as BreakerOpenError).retryAfterMs).toBe(30_000);
    advance(30_000);
    breakers.admit('p', 'twilio');
    breakers.abandon('p');
    expect(thrown(() => breakers.admit('p', 'twilio'))).toBeUndefined();
  });

  it('keeps lanes apart', () => {
    const { breakers } = setup();
    breakers.admit('a', 'smtp');
    for (let i = 0; i < 5; i++) breakers.failed('a');
    expect(thrown(() => breakers.admit('b', 'smtp'))).toBeUndefined();
  });
});
