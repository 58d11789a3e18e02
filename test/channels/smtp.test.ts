import net from 'node:net';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { makeSmtpChannel } from '../../src/channels/smtp.js';
import { classifySmtpError } from '../../src/channels/smtp-errors.js';
import type { Channel, EmailMessage } from '../../src/channels/types.js';
import { HeraldError, isPermanent, PermanentError } from '../../src/errors.js';
import { sendContext, useCleanups } from '../helpers/channel-test.js';
import type { SmtpSink, SmtpSinkOptions } from '../helpers/smtp-sink.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const logger = pino({ level: 'silent' });
const FROM = 'Herald <noreply@herald.test>';

function email(overrides: Partial<EmailMessage> = {}): EmailMessage {
  return {
    kind: 'email',
    notificationId: 'n-1',
    instanceId: 'i-1',
    messageType: 'VerifyEmail',
    to: 'alice@example.com',
    subject: 'Verify your email',
    text: 'Your code is 123456',
    html: '<p>Your code is <b>123456</b></p>',
    ...overrides,
  };
}

const ctx = sendContext;

const cleanups = useCleanups();

async function setup(sinkOpts: SmtpSinkOptions = {}, from: string | null = FROM): Promise<{ sink: SmtpSink; channel: Channel<EmailMessage> }> {
  const sink = await startSmtpSink(sinkOpts);
  cleanups.push(() => sink.close());
  const channel = makeSmtpChannel({ url: sink.url, logger, ...(from === null ? {} : { from }) });
  cleanups.push(() => channel.close());
  return { sink, channel };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; responseCode?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; responseCode?: number };
  }
  throw new Error('expected the promise to reject');
}

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('smtp channel', () => {
  it('delivers to, subject, text and html and returns the Message-ID', async () => {
    const { sink, channel } = await setup();
    const result = await channel.send(email(), ctx());
    const [mail] = await sink.waitFor(1);
    expect(mail?.envelope).toEqual({ from: 'noreply@herald.test', to: ['alice@example.com'] });
    expect(mail?.to).toBe('alice@example.com');
    expect(mail?.from).toContain('noreply@herald.test');
    expect(mail?.subject).toBe('Verify your email');
    expect(mail?.headers['content-type']).toMatch(/^multipart\/alternative/);
    expect(mail?.body).toContain('Your code is 123456');
    expect(mail?.body).toContain('<p>Your code is <b>123456</b></p>');
    expect(result.providerMessageId).toBeDefined();
    expect(mail?.headers['message-id']).toBe(result.providerMessageId);
  });

  it('prefers the message sender over the configured one', async () => {
    const { sink, channel } = await setup();
    await channel.send(email({ from: 'instance@tenant.test' }), ctx());
    const [mail] = await sink.waitFor(1);
    expect(mail?.envelope.from).toBe('instance@tenant.test');
  });

  it('fails permanently without any sender', async () => {
    const { sink, channel } = await setup({}, null);
    const err = await rejection(channel.send(email(), ctx()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('NO_SENDER');
    expect(sink.attempts).toBe(0);
  });

  it('reuses pooled connections: 20 sends over fewer than 20 connections', async () => {
    const { sink, channel } = await setup();
    const sends = Array.from({ length: 20 }, (_, i) => channel.send(email({ notificationId: `n-${i}` }), ctx()));
    await Promise.all(sends);
    await sink.waitFor(20);
    expect(sink.connections).toBeLessThanOrEqual(5);
    expect(sink.connections).toBeLessThan(20);
  });

  it('treats 451 as retryable, not permanent', async () => {
    const { sink, channel } = await setup({ failWith: () => ({ code: 451, message: 'Try again later' }) });
    const err = await rejection(channel.send(email(), ctx()));
    expect(isPermanent(err)).toBe(false);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err.code).toBe('SMTP_TEMPORARY');
    expect(err.responseCode).toBe(451);
    expect(sink.attempts).toBe(1);
    expect(sink.messages).toHaveLength(0);
  });

  it('succeeds on a later attempt after a 451', async () => {
    const { sink, channel } = await setup({
      failWith: (n) => (n === 1 ? { code: 451, message: 'Greylisted' } : undefined),
    });
    await rejection(channel.send(email(), ctx()));
    await channel.send(email(), ctx());
    await sink.waitFor(1);
    expect(sink.attempts).toBe(2);
  });

  it('treats 550 as PermanentError SMTP_REJECTED with the code and without the address', async () => {
    const { channel } = await setup({
      failWith: () => ({ code: 550, message: '5.1.1 <alice@example.com>: Recipient address rejected' }),
    });
    const err = await rejection(channel.send(email(), ctx()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(isPermanent(err)).toBe(true);
    expect(err.code).toBe('SMTP_REJECTED');
    expect(err.responseCode).toBe(550);
    expect(err.message).toContain('550');
    expect(err.message).not.toContain('alice@example.com');
    expect(err.cause).toBeUndefined();
  });

  it('treats a refused connection as retryable', async () => {
    const port = await closedPort();
    const channel = makeSmtpChannel({ url: `smtp://127.0.0.1:${port}`, from: FROM, logger });
    cleanups.push(() => channel.close());
    const err = await rejection(channel.send(email(), ctx()));
    expect(isPermanent(err)).toBe(false);
    expect(err.code).toBe('SMTP_UNAVAILABLE');
  });

  it('rejects promptly when the signal aborts mid-delivery, and the pool keeps working', async () => {
    const controller = new AbortController();
    const { sink, channel } = await setup({
      holdData: (n) => n === 1,
      onAttempt: (n) => {
        if (n === 1) controller.abort(new Error('job timed out'));
      },
    });
    const started = Date.now();
    const err = await rejection(channel.send(email(), ctx(controller.signal)));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(isPermanent(err)).toBe(false);
    expect(err.code).toBe('SMTP_ABORTED');
    expect(sink.messages).toHaveLength(0);

    await channel.send(email({ notificationId: 'n-2' }), ctx());
    await sink.waitFor(1);
    expect(sink.attempts).toBe(2);
  });

  it('rejects an already aborted signal without sending', async () => {
    const { sink, channel } = await setup();
    const err = await rejection(channel.send(email(), ctx(AbortSignal.abort())));
    expect(err.code).toBe('SMTP_ABORTED');
    expect(sink.attempts).toBe(0);
  });

  it.each([
    ['to', { to: 'alice@example.com\r\nBcc: evil@attacker.test' }],
    ['to (LF only)', { to: 'alice@example.com\nBcc: evil@attacker.test' }],
    ['to (a list)', { to: 'alice@example.com, evil@attacker.test' }],
    ['from', { from: 'noreply@herald.test\r\nBcc: evil@attacker.test' }],
  ])('refuses a header-injecting %s address as BAD_ADDRESS and sends nothing', async (_field, overrides) => {
    const { sink, channel } = await setup();
    const err = await rejection(channel.send(email(overrides), ctx()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('BAD_ADDRESS');
    expect(sink.attempts).toBe(0);
    expect(sink.connections).toBe(0);
  });

  it('folds CR/LF in the subject so it cannot create another header', async () => {
    const { sink, channel } = await setup();
    await channel.send(email({ subject: 'Hello\r\nBcc: evil@attacker.test\r\nX-Injected: 1' }), ctx());
    const [mail] = await sink.waitFor(1);
    const lower = mail?.headerLines.map((line) => line.toLowerCase()) ?? [];
    expect(lower.filter((line) => line.startsWith('subject:'))).toHaveLength(1);
    expect(lower.some((line) => line.startsWith('bcc:') || line.startsWith('x-injected:'))).toBe(false);
    expect(mail?.envelope.to).toEqual(['alice@example.com']);
  });
});

describe('classifySmtpError', () => {
  const smtpError = (fields: Record<string, unknown>): Error => Object.assign(new Error('boom'), fields);

  it.each([
    [{ code: 'EENVELOPE', responseCode: 553, command: 'RCPT TO' }, true, 'SMTP_REJECTED'],
    [{ code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, true, 'SMTP_REJECTED'],
    [{ code: 'EENVELOPE' }, true, 'BAD_ADDRESS'],
    [{ code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO' }, false, 'SMTP_TEMPORARY'],
    [{ code: 'EPROTOCOL', responseCode: 503 }, false, 'SMTP_TEMPORARY'],
    [{ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }, false, 'SMTP_UNAVAILABLE'],
    [{ code: 'EPROTOCOL', responseCode: 554, command: 'CONN' }, false, 'SMTP_UNAVAILABLE'],
    [{ code: 'ETIMEDOUT' }, false, 'SMTP_UNAVAILABLE'],
    [{ code: 'ECONNRESET' }, false, 'SMTP_UNAVAILABLE'],
    [{ code: 'EDNS' }, false, 'SMTP_UNAVAILABLE'],
    [{}, false, 'SMTP_FAILED'],
  ])('%j → permanent=%s %s', (fields, permanent, code) => {
    const err = classifySmtpError(smtpError(fields)) as HeraldError;
    expect(isPermanent(err)).toBe(permanent);
    expect(err.code).toBe(code);
  });

  it('scrubs addresses from the message', () => {
    const err = classifySmtpError(
      smtpError({ code: 'EENVELOPE', responseCode: 550, message: "Can't send mail - all recipients were rejected: 550 <bob@x.test>" }),
    );
    expect(err.message).not.toContain('bob@x.test');
  });
});
