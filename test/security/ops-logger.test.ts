/**
 * Logger redaction (issue #11 item 9): redaction by path hid herald's own error codes
 * (`err.code`) while free-text fields (an SMTP reply in `err.response`, a reason in `error`,
 * a message quoting a code) went out in clear.
 */
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { expect, it } from 'vitest';

import { HeraldError, PermanentError } from '../../src/errors.js';
import { loggerOptions } from '../../src/logger.js';

const CODE = '483921';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[]; raw: () => string } {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return {
    logger: pino(loggerOptions({ logLevel: 'debug' }), out),
    lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    raw: () => lines.join(''),
  };
}

it("shows herald's own error class and code, not the reply text", () => {
  const { logger, lines, raw } = capture();
  const smtp = Object.assign(new PermanentError('SMTP_REJECTED', `SMTP 550 rejected: body has ${CODE}`), {
    response: `550 5.7.1 ${CODE} and bob@example.com`,
    responseCode: 550,
  });
  logger.warn({ err: smtp }, 'send failed');
  expect(raw()).not.toContain(CODE);
  expect(raw()).not.toContain('bob@example.com');
  expect(lines()[0]).toMatchObject({ err: { type: 'PermanentError', errorCode: 'SMTP_REJECTED' } });
});

it('shows the code of a plain { name, code } error object', () => {
  const { logger, lines } = capture();
  logger.warn({ err: { name: 'HeraldError', code: 'SMTP_UNAVAILABLE' } }, 'send failed');
  expect(lines()[0]).toMatchObject({ err: { type: 'HeraldError', errorCode: 'SMTP_UNAVAILABLE' } });
});

it('sanitises free-text reason fields', () => {
  const { logger, raw } = capture();
  logger.info({ error: `urlTemplate: range can't iterate over ${CODE}\r\nX-Injected: 1`, reason: `reply ${CODE}` }, 'notification canceled');
  expect(raw()).not.toContain(CODE);
  expect(raw()).not.toContain('\\r\\nX-Injected');
});

it('still redacts codes, passwords and addresses by path, and keeps non-herald codes out', () => {
  const { logger, raw } = capture();
  logger.warn({ code: CODE, password: 'hunter2', to: 'bob@example.com', err: new HeraldError('X_FAILED', 'x') }, 'x');
  for (const secret of [CODE, 'hunter2', 'bob@example.com']) expect(raw()).not.toContain(secret);
  const foreign = capture();
  foreign.logger.warn({ err: Object.assign(new Error('x'), { code: CODE }) }, 'x');
  expect(foreign.raw()).not.toContain(CODE);
});
