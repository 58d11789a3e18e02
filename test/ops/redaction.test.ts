/** The dashboard's job-data allow-list, the shutdown reserve, and the logger's redaction. */
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { expect, it } from 'vitest';

import { REDACT_PATHS } from '../../src/logger.js';
import { redactJobField } from '../../src/ops/dashboard.js';
import { releaseReserveMs } from '../../src/worker/close.js';

it('shows allow-listed job fields and masks everything else, however nested', () => {
  const safe = new Set(['instanceId', 'aggregateId', 'sequence', 'delivered', 'at']);
  expect(
    redactJobField(
      {
        instanceId: 'i',
        aggregateId: 'a',
        sequence: 2,
        delivered: { at: 't', generatorInfo: { id: 'x' } },
        code: '123456',
        request: { to: 'a@b.c' },
      },
      safe,
    ),
  ).toEqual({
    instanceId: 'i',
    aggregateId: 'a',
    sequence: 2,
    delivered: { at: 't', generatorInfo: '[redacted]' },
    code: '[redacted]',
    request: '[redacted]',
  });
  expect(redactJobField('123456', safe)).toBe('[redacted]');
  expect(redactJobField(['123456'], safe)).toBe('[redacted]');
  expect(redactJobField(42, safe)).toBe(42);
  expect(redactJobField(null, safe)).toBeNull();
});

it('keeps 20 % of the grace period (200 ms to 5 s) for releasing aborted jobs', () => {
  expect(releaseReserveMs(25_000)).toBe(5000);
  expect(releaseReserveMs(60_000)).toBe(5000);
  expect(releaseReserveMs(3000)).toBe(600);
  expect(releaseReserveMs(500)).toBe(200);
  expect(releaseReserveMs(100)).toBe(100);
});

it('redacts codes, passwords and addresses from log lines', () => {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, out);
  logger.child({ role: 'worker', jobId: 'j1' }).warn(
    {
      code: 'C0DE42',
      err: { rcptTo: ['x@example.com'], envelope: { to: ['x@example.com'] } },
      password: 'hunter2',
      headers: { authorization: 'Basic abc' },
    },
    'send failed',
  );
  const line = lines.join('');
  for (const secret of ['C0DE42', 'x@example.com', 'hunter2', 'Basic abc']) expect(line).not.toContain(secret);
  expect(JSON.parse(line)).toMatchObject({ role: 'worker', jobId: 'j1', code: '[redacted]' });
});
