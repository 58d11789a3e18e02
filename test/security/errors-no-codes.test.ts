/**
 * Codes in error texts (issue #11 item 5): a reason leaves the process in the canceled or
 * retry event, a log line, BullMQ's failedReason (kept for days) and the dashboard. None of
 * them may carry the code, whether a template quoted it or a remote server echoed it.
 */
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { type Herald, startHerald } from '../../src/app.js';
import { renderGoTemplate } from '../../src/content/go-template.js';
import { renderMailTemplate } from '../../src/content/mail-template.js';
import type { MailTemplateData } from '../../src/content/types.js';
import { HeraldError, PermanentError, publicReason } from '../../src/errors.js';
import { loggerOptions } from '../../src/logger.js';
import { jobIdFor } from '../../src/queue/names.js';
import { type Harness, makeHarness } from '../helpers/herald.js';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp-sink.js';
import { waitUntil } from '../helpers/wait.js';
import { eventsOf, finishedAs, newId, requestNotification, seedUser } from '../helpers/zitadel.js';

const CODE = '483921';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('template errors never quote values', () => {
  it.each([
    ['{{range .Code}}{{end}}'],
    ['{{range .Code}}x{{else}}y{{end}}'],
    ['{{len .Code | printf "%d" | len | not | and .Code | range}}'],
    ['{{with .Code}}{{range .}}{{end}}{{end}}'],
  ])('%s', (tmpl) => {
    const err = errorOf(() => renderGoTemplate(tmpl, { Code: CODE }));
    expect(err.message).not.toContain(CODE);
  });

  it('in a custom mail template', () => {
    const err = errorOf(() => renderMailTemplate('<p>{{range .Text}}{{end}}</p>', { Text: CODE } as unknown as MailTemplateData));
    expect(err.message).not.toContain(CODE);
  });
});

describe('publicReason', () => {
  it('keeps herald’s own message and class, masks digit runs that could be codes', () => {
    expect(publicReason(new PermanentError('SMTP_REJECTED', `SMTP 550 rejected: content ${CODE} refused`))).toBe(
      'SMTP 550 rejected: content <number> refused',
    );
    expect(publicReason(new Error(`boom ${CODE}`))).toBe('Error: boom <number>');
  });

  it('masks a known secret wherever it appears, and alphanumeric code-like tokens', () => {
    expect(publicReason(new HeraldError('X', 'the reply quoted K7Q9ZX back'), ['K7Q9ZX'])).not.toContain('K7Q9ZX');
    expect(publicReason(new HeraldError('X', 'reply: token 7F3KQ2P9 refused'))).not.toContain('7F3KQ2P9');
  });

  it('strips control characters, URLs with credentials, and cuts long remote text', () => {
    const reason = publicReason(new HeraldError('X', `bad\r\nreply\u0000 https://user:hunter2@relay.example/x?k=secret ${'y'.repeat(5000)}`));
    expect(/[\r\n]/.test(reason) || reason.includes(String.fromCharCode(0))).toBe(false);
    expect(reason).not.toContain('hunter2');
    expect(reason).not.toContain('k=secret');
    expect(reason.length).toBeLessThanOrEqual(300);
  });

  it('is bounded for anything thrown', () => {
    expect(publicReason('x'.repeat(1 << 20)).length).toBeLessThanOrEqual(300);
    expect(publicReason(undefined)).toBe('Error: non-error thrown');
    expect(publicReason({ toString: () => CODE })).not.toContain(CODE);
  });
});

describe('end to end: the canceled event, failedReason and log lines carry no code', () => {
  let h: Harness;
  let sink: SmtpSink | undefined;
  let herald: Herald | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    h = await makeHarness();
  });
  afterEach(async () => {
    await herald?.stop();
    herald = undefined;
    await sink?.close();
    sink = undefined;
  });
  afterAll(async () => {
    await h.close();
  });

  async function run(failWith?: Parameters<typeof startSmtpSink>[0]) {
    sink = await startSmtpSink(failWith);
    const cfg = h.config({ SMTP_URL: sink.url, SMTP_FROM: 'herald@example.com', ZITADEL_NOTIFICATIONS_MAXATTEMPTS: '1' });
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = pino(loggerOptions({ logLevel: 'debug' }), out);
    herald = await startHerald(cfg, ['all'], logger, { producerLoops: false });
    return herald;
  }

  async function canceledReason(instanceId: string, id: string): Promise<string> {
    await waitUntil(() => finishedAs(h.db.pool, instanceId, id), { what: `notification ${id} finished` });
    const last = (await eventsOf(h.db.pool, instanceId, id)).at(-1);
    expect(last?.event_type).toBe('notification.canceled');
    return (last?.payload as { error: string }).error;
  }

  async function failedReason(herald: Herald, instanceId: string, id: string): Promise<string> {
    return waitUntil(async () => (await herald.queues.requests.getJob(jobIdFor(instanceId, id, 1)))?.failedReason || undefined, {
      what: 'failedReason',
    });
  }

  it('a URL template that would quote the code', async () => {
    const herald = await run();
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = await requestNotification(h.db.pool, user, { urlTemplate: 'https://auth.example.com/{{range .Code}}{{end}}' }, { code: CODE });
    await herald.producer?.tickRequests();
    const reason = await canceledReason(instanceId, id);
    expect(reason).toMatch(/urlTemplate/);
    expect(reason).not.toContain(CODE);
    const failed = await failedReason(herald, instanceId, id);
    expect(failed).toMatch(/canceled/);
    expect(failed).not.toContain(CODE);
    const job = await herald.queues.requests.getJob(jobIdFor(instanceId, id, 1));
    expect(JSON.stringify(job?.stacktrace ?? [])).not.toContain(CODE);
    expect(lines.join('')).toContain('notification canceled');
    expect(lines.join('')).not.toContain(CODE);
  });

  it('an SMTP server that echoes the code in its reply', async () => {
    lines.length = 0;
    const herald = await run({ failWith: () => ({ code: 550, message: `5.7.1 content rejected: found ${CODE} in body` }) });
    const instanceId = newId();
    const user = await seedUser(h.db.pool, { instanceId });
    const id = await requestNotification(h.db.pool, user, {}, { code: CODE });
    await herald.producer?.tickRequests();
    const reason = await canceledReason(instanceId, id);
    expect(reason).toMatch(/550/);
    expect(reason).not.toContain(CODE);
    expect(await failedReason(herald, instanceId, id)).not.toContain(CODE);
    const log = lines.join('');
    expect(log).not.toContain(CODE);
    // herald's own error code stays visible in the log (redaction by path used to hide it).
    expect(log).toContain('SMTP_REJECTED');
  });
});
