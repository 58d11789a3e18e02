import { createHmac, timingSafeEqual } from 'node:crypto';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import type { EmailMessage, SmsMessage } from '../../src/channels/types.js';
import type { WebhookChannelOptions } from '../../src/channels/webhook.js';
import { makeWebhookChannel } from '../../src/channels/webhook.js';
import { ConfigError, HeraldError, isPermanent, isRateLimited, PermanentError, RateLimitedError } from '../../src/errors.js';
import { sendContext, useCleanups } from '../helpers/channel-test.js';
import type { HttpSink, HttpSinkOptions } from '../helpers/http-sink.js';
import { startHttpSink } from '../helpers/http-sink.js';

const logger = pino({ level: 'silent' });
const KEY = 'whsec-test-key';

const EMAIL: EmailMessage = {
  kind: 'email',
  notificationId: 'n-1',
  instanceId: 'i-1',
  messageType: 'InitCode',
  to: 'alice@example.com',
  subject: 'Initialize user',
  text: 'Your code is 123456',
  html: '<p>Your code is <b>123456</b></p>',
};

const SMS: SmsMessage = {
  kind: 'sms',
  notificationId: 'n-2',
  instanceId: 'i-1',
  messageType: 'VerifySMSOTP',
  to: '+15550001111',
  text: 'Your code is 654321',
};

const ctx = sendContext;

const cleanups = useCleanups();

async function setup(
  sinkOpts: HttpSinkOptions = {},
  channelOpts: Partial<WebhookChannelOptions> = {},
): Promise<{ sink: HttpSink; channel: ReturnType<typeof makeWebhookChannel> }> {
  const sink = await startHttpSink(sinkOpts);
  cleanups.push(() => sink.close());
  const channel = makeWebhookChannel({ url: sink.url, logger, ...channelOpts });
  cleanups.push(() => channel.close());
  return { sink, channel };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; status?: number };
  }
  throw new Error('expected the promise to reject');
}

function verify(header: string, rawBody: string, key: string): { t: number; ok: boolean } {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match?.[1] || !match[2]) return { t: 0, ok: false };
  const expected = createHmac('sha256', key).update(`${match[1]}.${rawBody}`).digest();
  return { t: Number(match[1]), ok: timingSafeEqual(expected, Buffer.from(match[2], 'hex')) };
}

describe('webhook channel', () => {
  it('POSTs an email in ZITADEL HTTP-provider shape', async () => {
    const { sink, channel } = await setup({}, { providerId: 'p-1', providerDescription: 'my hook' });
    await expect(channel.send(EMAIL, ctx())).resolves.toEqual({});
    const req = sink.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/hook');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual({
      contextInfo: {
        recipientEmailAddress: 'alice@example.com',
        eventType: 'notification.requested',
        provider: { id: 'p-1', description: 'my hook' },
        messageType: 'InitCode',
        notificationId: 'n-1',
        instanceId: 'i-1',
      },
      templateData: {
        subject: 'Initialize user',
        text: 'Your code is 123456',
        html: '<p>Your code is <b>123456</b></p>',
      },
      args: {},
    });
  });

  it('POSTs an SMS with recipientPhoneNumber and the text only', async () => {
    const { sink, channel } = await setup();
    await channel.send(SMS, ctx());
    const body = JSON.parse(sink.requests[0]?.body ?? '') as Record<string, Record<string, unknown>>;
    expect(body.contextInfo).toEqual({
      recipientPhoneNumber: '+15550001111',
      eventType: 'notification.requested',
      provider: { id: 'herald-webhook', description: 'herald webhook' },
      messageType: 'VerifySMSOTP',
      notificationId: 'n-2',
      instanceId: 'i-1',
    });
    expect(body.templateData).toEqual({ text: 'Your code is 654321' });
  });

  it('signs timestamp and raw body with the key', async () => {
    const { sink, channel } = await setup({}, { signingKey: KEY });
    const before = Math.floor(Date.now() / 1000);
    await channel.send(EMAIL, ctx());
    const after = Math.floor(Date.now() / 1000);
    const req = sink.requests[0];
    const header = req?.headers['x-herald-signature'];
    expect(typeof header).toBe('string');
    const checked = verify(String(header), req?.body ?? '', KEY);
    expect(checked.ok).toBe(true);
    expect(checked.t).toBeGreaterThanOrEqual(before);
    expect(checked.t).toBeLessThanOrEqual(after);
    expect(verify(String(header), req?.body ?? '', 'another-key').ok).toBe(false);
    expect(verify(String(header), `${req?.body ?? ''} `, KEY).ok).toBe(false);
  });

  it('sends no signature header without a key', async () => {
    const { sink, channel } = await setup();
    await channel.send(EMAIL, ctx());
    expect(sink.requests[0]?.headers['x-herald-signature']).toBeUndefined();
  });

  it('treats 503 as retryable', async () => {
    const { channel } = await setup({ respond: () => ({ status: 503 }) });
    const err = await rejection(channel.send(EMAIL, ctx()));
    expect(err).toBeInstanceOf(HeraldError);
    expect(err.code).toBe('WEBHOOK_UNAVAILABLE');
    expect(err.status).toBe(503);
    expect(isPermanent(err) || isRateLimited(err)).toBe(false);
  });

  it('maps 429 to RateLimitedError with Retry-After', async () => {
    const { channel } = await setup({ respond: () => ({ status: 429, headers: { 'retry-after': '7' } }) });
    const err = await rejection(channel.send(SMS, ctx()));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as Error & { retryAfterMs?: number }).retryAfterMs).toBe(7000);
  });

  it('maps 400 to PermanentError WEBHOOK_REJECTED without the body in the message', async () => {
    const { channel } = await setup({ respond: () => ({ status: 400, body: 'bad request' }) });
    const err = await rejection(channel.send(EMAIL, ctx()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('WEBHOOK_REJECTED');
    expect(err.status).toBe(400);
    expect(err.message).toContain('400');
    for (const secret of ['123456', 'alice@example.com', 'Initialize user']) expect(err.message).not.toContain(secret);
  });

  it('does not follow a redirect', async () => {
    const { sink, channel } = await setup({
      respond: (n) => (n === 1 ? { status: 307, headers: { location: '/elsewhere' } } : { status: 200 }),
    });
    const err = await rejection(channel.send(EMAIL, ctx()));
    expect(err.code).toBe('WEBHOOK_REJECTED');
    expect(sink.requests).toHaveLength(1);
  });

  it('gives up on a hanging server after timeoutMs with a retryable timeout error', async () => {
    const { sink, channel } = await setup({ respond: () => 'hang' }, { timeoutMs: 300 });
    const started = Date.now();
    const err = await rejection(channel.send(EMAIL, ctx()));
    const elapsed = Date.now() - started;
    expect(err.code).toBe('WEBHOOK_TIMEOUT');
    expect(isPermanent(err) || isRateLimited(err)).toBe(false);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    await sink.waitForHangup();
  });

  it('stops when the job signal aborts', async () => {
    const { sink, channel } = await setup({ respond: () => 'hang' });
    const controller = new AbortController();
    const pending = rejection(channel.send(EMAIL, ctx(controller.signal)));
    await sink.waitForRequest(1);
    controller.abort();
    const err = await pending;
    expect(err.code).toBe('WEBHOOK_ABORTED');
    expect(isPermanent(err)).toBe(false);
    await sink.waitForHangup();
  });

  it('maps a refused connection to a retryable error', async () => {
    const sink = await startHttpSink();
    await sink.close();
    const channel = makeWebhookChannel({ url: sink.url, logger });
    const err = await rejection(channel.send(EMAIL, ctx()));
    expect(err.code).toBe('WEBHOOK_UNAVAILABLE');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain(sink.url);
    expect(isPermanent(err)).toBe(false);
  });

  it('refuses a non-http URL at construction', () => {
    expect(() => makeWebhookChannel({ url: 'ftp://127.0.0.1/x', logger })).toThrow(ConfigError);
    expect(() => makeWebhookChannel({ url: 'not a url', logger })).toThrow(ConfigError);
  });
});
