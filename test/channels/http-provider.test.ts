import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import {
  buildHttpProviderBody,
  makeHttpEmailProviderChannel,
  makeHttpSmsProviderChannel,
  zitadelJsonArgs,
} from '../../src/channels/http-provider.js';
import type { EmailMessage, SmsMessage } from '../../src/channels/types.js';
import type { HeraldError } from '../../src/errors.js';
import { isPermanent, isRateLimited, PermanentError } from '../../src/errors.js';
import { parseEgressAllow } from '../../src/net/egress.js';
import { sendContext, useCleanups } from '../helpers/channel-test.js';
import type { HttpSink, HttpSinkOptions } from '../helpers/http-sink.js';
import { startHttpSink } from '../helpers/http-sink.js';

const logger = pino({ level: 'silent' });
const ctx = sendContext;

const EMAIL: EmailMessage = {
  kind: 'email',
  notificationId: 'n-1',
  instanceId: 'i-1',
  messageType: 'InitCode',
  to: 'alice@example.com',
  subject: 'Initialize user',
  text: 'plain body',
  html: '<p>html body</p>',
};
const SMS: SmsMessage = { kind: 'sms', notificationId: 'n-2', instanceId: 'i-1', messageType: 'VerifySMSOTP', to: '+41790000001', text: 'code 1' };

const cleanups = useCleanups();

async function sink(opts: HttpSinkOptions = {}): Promise<HttpSink> {
  const s = await startHttpSink(opts);
  cleanups.push(() => s.close());
  return s;
}

/** The sink listens on 127.0.0.1, which the egress rule refuses unless allowed. */
const egress = parseEgressAllow('127.0.0.1/32').policy;
const provider = (endpoint: string) => ({ endpoint, providerId: 'p-1', description: 'my hook', logger, egress });

describe('http provider body', () => {
  it('is ZITADEL’s shape: contextInfo, omitempty templateData, lowerCamel args', () => {
    const body = buildHttpProviderBody(
      EMAIL,
      { id: 'p-1', description: 'my hook' },
      {
        eventType: 'notification.retry.requested',
        templateData: { title: 'Hello', subject: 'Subj', text: 'Text', url: '', includeFooter: false, primaryColor: '#5282C1' },
        args: { Code: '123456', DisplayName: 'Alice', Expiry: 300_000_000_000, LoginNames: null, OTP: undefined },
      },
    );
    expect(JSON.stringify(body)).toBe(
      JSON.stringify({
        contextInfo: {
          eventType: 'notification.retry.requested',
          provider: { id: 'p-1', description: 'my hook' },
          recipientEmailAddress: 'alice@example.com',
        },
        templateData: { title: 'Hello', subject: 'Subj', text: 'Text', primaryColor: '#5282C1' },
        args: { code: '123456', displayName: 'Alice', expiry: 300_000_000_000, loginNames: null },
      }),
    );
  });

  it('leaves args out when there are none and names the phone for SMS', () => {
    const body = buildHttpProviderBody(
      SMS,
      { id: 'p', description: '' },
      { eventType: 'notification.requested', templateData: { text: 'x' }, args: {} },
    );
    expect(body).toEqual({
      contextInfo: { eventType: 'notification.requested', provider: { id: 'p', description: '' }, recipientPhoneNumber: '+41790000001' },
      templateData: { text: 'x' },
    });
  });

  it('zitadelJsonArgs gives Expiry in nanoseconds as Go marshals time.Duration', () => {
    expect(zitadelJsonArgs({ Expiry: '5m0s', Code: 'c' }, 300_000_000_000)).toEqual({ Expiry: 300_000_000_000, Code: 'c' });
    expect(zitadelJsonArgs({ Code: 'c' }, 5)).toEqual({ Code: 'c' });
  });
});

describe('http email provider channel', () => {
  it("send POSTs ZITADEL's full body from the message's zitadel payload", async () => {
    const s = await sink();
    const channel = makeHttpEmailProviderChannel(provider(s.url));
    await channel.send(
      { ...EMAIL, zitadel: { eventType: 'notification.requested', templateData: { subject: 'S', greeting: 'Hi' }, args: { Code: '1' } } },
      ctx(),
    );
    const req = await s.waitForRequest(1);
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      contextInfo: {
        eventType: 'notification.requested',
        provider: { id: 'p-1', description: 'my hook' },
        recipientEmailAddress: 'alice@example.com',
      },
      templateData: { subject: 'S', greeting: 'Hi' },
      args: { code: '1' },
    });
  });

  it('send (rendered message only) puts subject and text in templateData', async () => {
    const s = await sink();
    await makeHttpEmailProviderChannel(provider(s.url)).send(EMAIL, ctx());
    const body = JSON.parse((await s.waitForRequest(1)).body) as { templateData: unknown; args?: unknown };
    expect(body.templateData).toEqual({ subject: 'Initialize user', text: 'plain body' });
    expect(body.args).toBeUndefined();
  });

  it('classifies 429 as rate limited, 5xx as retryable, 4xx as permanent', async () => {
    const statuses = [429, 503, 400];
    const s = await sink({ respond: (n) => ({ status: statuses[n - 1] ?? 200 }) });
    const channel = makeHttpEmailProviderChannel(provider(s.url));
    const errs = [];
    for (let i = 0; i < 3; i++) errs.push(await channel.send(EMAIL, ctx()).catch((e: unknown) => e));
    expect(isRateLimited(errs[0])).toBe(true);
    expect((errs[1] as HeraldError).code).toBe('HTTP_PROVIDER_UNAVAILABLE');
    expect(isPermanent(errs[1])).toBe(false);
    expect(isPermanent(errs[2])).toBe(true);
  });

  it('times out a hanging endpoint, retryably', async () => {
    const s = await sink({ respond: () => 'hang' });
    const err = (await makeHttpEmailProviderChannel({ ...provider(s.url), timeoutMs: 150 })
      .send(EMAIL, ctx())
      .catch((e: unknown) => e)) as HeraldError;
    expect(err.code).toBe('HTTP_PROVIDER_TIMEOUT');
    expect(isPermanent(err)).toBe(false);
  });

  it('rejects a non-http endpoint at construction with a permanent error naming the rule', () => {
    expect(() => makeHttpEmailProviderChannel(provider('ftp://x'))).toThrow(/must be an http:\/\/ or https:\/\/ URL/);
    expect(() => makeHttpEmailProviderChannel(provider('ftp://x'))).toThrow(PermanentError);
  });
});

describe('http sms provider channel', () => {
  it('sends the SMS text as templateData.text to recipientPhoneNumber', async () => {
    const s = await sink();
    await makeHttpSmsProviderChannel(provider(s.url)).send(SMS, ctx());
    expect(JSON.parse((await s.waitForRequest(1)).body)).toEqual({
      contextInfo: { eventType: 'notification.requested', provider: { id: 'p-1', description: 'my hook' }, recipientPhoneNumber: '+41790000001' },
      templateData: { text: 'code 1' },
    });
  });
});
