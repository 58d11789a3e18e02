/**
 * The SMTP reply scrubbing ran a backtracking regex over the whole reply: a 40 KB reply took
 * 5.3 s (issue #11 item 3). A tenant's SMTP server controls replies up to 1 MiB.
 */
import { expect, it } from 'vitest';

import { classifySmtpError } from '../../src/channels/smtp-errors.js';

function smtpError(response: string): Error {
  return Object.assign(new Error(`Message failed: ${response}`), { code: 'EMESSAGE', responseCode: 550, response, command: 'DATA' });
}

it('classifies a 40 KB reply without quadratic scrubbing', () => {
  const started = performance.now();
  const err = classifySmtpError(smtpError(`550 ${'x'.repeat(40_000)}`));
  expect(performance.now() - started).toBeLessThan(300);
  expect(err.message.length).toBeLessThan(400);
});

it('classifies a 1 MiB reply of any shape in bounded time', () => {
  for (const body of ['a'.repeat(1 << 20), '<'.repeat(1 << 20), 'a@'.repeat(1 << 19), `${'b'.repeat(1 << 20)}@x`]) {
    const started = performance.now();
    const err = classifySmtpError(smtpError(`550 ${body}`));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.message.length).toBeLessThan(400);
  }
});

it('still removes addresses quoted in the reply', () => {
  const err = classifySmtpError(smtpError('550 5.1.1 <bob@example.com>: unknown user'));
  expect(err.message).toContain('550');
  expect(err.message).not.toContain('bob@example.com');
});
