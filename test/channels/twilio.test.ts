import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import type { TwilioChannelOptions } from '../../src/channels/twilio.js';
import { makeTwilioChannel } from '../../src/channels/twilio.js';
import type { SmsMessage } from '../../src/channels/types.js';
import { ConfigError, HeraldError, isPermanent, isRateLimited } from '../../src/errors.js';
import { sendContext, useCleanups } from '../helpers/channel-test.js';
import type { TwilioEndpoint, TwilioEndpointOptions } from '../helpers/twilio-endpoint.js';
import { startTwilioEndpoint } from '../helpers/twilio-endpoint.js';

const logger = pino({ level: 'silent' });
const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'twilio-auth-token';

const SMS: SmsMessage = {
  kind: 'sms',
  notificationId: 'n-1',
  instanceId: 'i-1',
  messageType: 'VerifySMSOTP',
  to: '+41790000001',
  text: 'Your code is 123456',
};

const ctx = sendContext;

const cleanups = useCleanups();

async function setup(
  endpointOpts: TwilioEndpointOptions = {},
  channelOpts: Partial<TwilioChannelOptions> = {},
): Promise<{ endpoint: TwilioEndpoint; channel: ReturnType<typeof makeTwilioChannel> }> {
  const endpoint = await startTwilioEndpoint(endpointOpts);
  cleanups.push(() => endpoint.close());
  const channel = makeTwilioChannel({
    sid: SID,
    token: TOKEN,
    senderNumber: '+15550001111',
    providerId: 'sms-provider-1',
    logger,
    apiBaseUrl: endpoint.baseUrl,
    ...channelOpts,
  });
  cleanups.push(() => channel.close());
  return { endpoint, channel };
}

describe('twilio channel: plain SMS', () => {
  it('posts the message to the account Messages resource with basic auth', async () => {
    const { endpoint, channel } = await setup();
    const result = await channel.send(SMS, ctx());
    const req = await endpoint.waitForRequest(1);
    expect(req.method).toBe('POST');
    expect(req.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(req.form).toEqual({ To: '+41790000001', From: '+15550001111', Body: 'Your code is 123456' });
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
    expect(result.providerMessageId).toMatch(/^SM/);
    expect(result.generatorInfo).toBeUndefined();
  });
});

describe('twilio channel: Verify', () => {
  it('creates an sms verification and returns the provider id and verification id', async () => {
    const { endpoint, channel } = await setup({}, { verifyServiceSid: 'VA42' });
    const result = await channel.send(SMS, ctx());
    const req = await endpoint.waitForRequest(1);
    expect(req.path).toBe('/v2/Services/VA42/Verifications');
    expect(req.form).toEqual({ To: '+41790000001', Channel: 'sms' });
    expect(result.generatorInfo).toEqual({ id: 'sms-provider-1', verificationId: result.providerMessageId });
    expect(result.generatorInfo?.verificationId).toMatch(/^VE/);
  });

  it('cancels on 60203 (max send attempts reached)', async () => {
    const { channel } = await setup({ failWith: () => ({ status: 429, code: 60203 }) }, { verifyServiceSid: 'VA42' });
    const err = await channel.send(SMS, ctx()).catch((e: unknown) => e);
    expect(isPermanent(err)).toBe(true);
    expect((err as HeraldError).code).toBe('TWILIO_MAX_ATTEMPTS');
  });
});

describe('twilio channel: error mapping', () => {
  it('maps 429 to RateLimitedError', async () => {
    const { channel } = await setup({ failWith: () => ({ status: 429, code: 20429 }) });
    const err = await channel.send(SMS, ctx()).catch((e: unknown) => e);
    expect(isRateLimited(err)).toBe(true);
  });

  it('maps code 20429 to RateLimitedError even with another status', async () => {
    const { channel } = await setup({ failWith: () => ({ status: 400, code: 20429 }) });
    expect(isRateLimited(await channel.send(SMS, ctx()).catch((e: unknown) => e))).toBe(true);
  });

  it("maps other 4xx to PermanentError without echoing Twilio's message", async () => {
    const { channel } = await setup({
      failWith: () => ({ status: 400, code: 21211, message: "The 'To' number +41790000001 is not valid" }),
    });
    const err = (await channel.send(SMS, ctx()).catch((e: unknown) => e)) as HeraldError;
    expect(isPermanent(err)).toBe(true);
    expect(err.message).toBe('twilio answered 400 (code 21211)');
    expect(err.message).not.toContain('+4179');
  });

  it('retries 5xx (neither permanent nor rate limited)', async () => {
    const { channel } = await setup({ failWith: () => ({ status: 503 }) });
    const err = (await channel.send(SMS, ctx()).catch((e: unknown) => e)) as HeraldError;
    expect(err).toBeInstanceOf(HeraldError);
    expect(err.code).toBe('TWILIO_UNAVAILABLE');
    expect(isPermanent(err) || isRateLimited(err)).toBe(false);
  });

  it('retries a refused connection', async () => {
    const endpoint = await startTwilioEndpoint();
    const baseUrl = endpoint.baseUrl;
    await endpoint.close();
    const channel = makeTwilioChannel({ sid: SID, token: TOKEN, senderNumber: '+1555', logger, apiBaseUrl: baseUrl });
    const err = (await channel.send(SMS, ctx()).catch((e: unknown) => e)) as HeraldError;
    expect(err.code).toBe('TWILIO_UNAVAILABLE');
    expect(err.message).toContain('ECONNREFUSED');
    expect(isPermanent(err)).toBe(false);
  });

  it('aborts the request in flight when the job signal fires', async () => {
    const { endpoint, channel } = await setup({ failWith: () => 'hang' });
    const controller = new AbortController();
    const sending = channel.send(SMS, ctx(controller.signal)).catch((e: unknown) => e);
    await endpoint.waitForRequest(1);
    controller.abort();
    const err = (await sending) as HeraldError;
    expect(err.code).toBe('TWILIO_ABORTED');
    await endpoint.waitForHangup();
  });

  it('times out a request that never answers, retryably', async () => {
    const { channel } = await setup({ failWith: () => 'hang' }, { timeoutMs: 200 });
    const err = (await channel.send(SMS, ctx()).catch((e: unknown) => e)) as HeraldError;
    expect(err.code).toBe('TWILIO_UNAVAILABLE');
    expect(isPermanent(err)).toBe(false);
  });
});

describe('twilio channel: configuration', () => {
  it('rejects an account sid that does not start with AC', () => {
    expect(() => makeTwilioChannel({ sid: 'XX1', token: TOKEN, senderNumber: '+1', logger })).toThrow(ConfigError);
  });

  it('rejects an empty token', () => {
    expect(() => makeTwilioChannel({ sid: SID, token: '', senderNumber: '+1', logger })).toThrow(ConfigError);
  });
});
