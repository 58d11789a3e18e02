import { SNSClient } from '@aws-sdk/client-sns';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import type { SnsChannelOptions } from '../../src/channels/sns.js';
import { classifySnsError, makeSnsChannel } from '../../src/channels/sns.js';
import type { Channel, SmsMessage } from '../../src/channels/types.js';
import { ConfigError, HeraldError, isPermanent, isRateLimited, PermanentError, RateLimitedError } from '../../src/errors.js';
import { sendContext, useCleanups } from '../helpers/channel-test.js';
import type { SnsEndpoint, SnsEndpointOptions } from '../helpers/sns-endpoint.js';
import { INTERNAL_ERROR, INVALID_PARAMETER, startSnsEndpoint, THROTTLING } from '../helpers/sns-endpoint.js';

const logger = pino({ level: 'silent' });
const PHONE = '+15550001111';

function sms(overrides: Partial<SmsMessage> = {}): SmsMessage {
  return {
    kind: 'sms',
    notificationId: 'n-1',
    instanceId: 'i-1',
    messageType: 'VerifySMSOTP',
    to: PHONE,
    text: 'Your code is 123456 – gültig 5 Minuten',
    ...overrides,
  };
}

const ctx = sendContext;

const cleanups = useCleanups();

async function setup(
  endpointOpts: SnsEndpointOptions = {},
  channelOpts: Partial<SnsChannelOptions> = {},
): Promise<{ endpoint: SnsEndpoint; channel: Channel<SmsMessage> }> {
  const endpoint = await startSnsEndpoint(endpointOpts);
  cleanups.push(() => endpoint.close());
  const channel = makeSnsChannel({
    logger,
    clientConfig: {
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    },
    ...channelOpts,
  });
  cleanups.push(() => channel.close());
  return { endpoint, channel };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the promise to reject');
}

describe('sns channel through the real SNSClient', () => {
  it('publishes number, text and both SMS attributes and returns the MessageId', async () => {
    const { endpoint, channel } = await setup({}, { senderId: 'Herald', smsType: 'Transactional' });
    const result = await channel.send(sms(), ctx());
    expect(endpoint.requests).toHaveLength(1);
    const req = endpoint.requests[0];
    expect(req?.action).toBe('Publish');
    expect(req?.phoneNumber).toBe(PHONE);
    expect(req?.message).toBe('Your code is 123456 – gültig 5 Minuten');
    expect(req?.attributes).toEqual({
      'AWS.SNS.SMS.SenderID': { dataType: 'String', stringValue: 'Herald' },
      'AWS.SNS.SMS.SMSType': { dataType: 'String', stringValue: 'Transactional' },
    });
    expect(req?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/sns\//);
    expect(result.providerMessageId).toBe(endpoint.messageIds[0]);
  });

  it('sends SMSType Transactional by default and no SenderID unless configured', async () => {
    const { endpoint, channel } = await setup();
    await channel.send(sms(), ctx());
    expect(endpoint.requests[0]?.attributes).toEqual({
      'AWS.SNS.SMS.SMSType': { dataType: 'String', stringValue: 'Transactional' },
    });
  });

  it('maps Throttling to RateLimitedError after a single request', async () => {
    const { endpoint, channel } = await setup({ failWith: () => THROTTLING });
    const err = await rejection(channel.send(sms(), ctx()));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(isRateLimited(err)).toBe(true);
    expect(err.code).toBe('PROVIDER_THROTTLED');
    expect(endpoint.requests).toHaveLength(1);
  });

  it('maps InvalidParameter to PermanentError without the number in the message', async () => {
    const { channel } = await setup({ failWith: () => INVALID_PARAMETER });
    const err = await rejection(channel.send(sms(), ctx()));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('SNS_REJECTED');
    expect(err.message).toContain('InvalidParameter');
    expect(err.message).not.toContain('5550001111');
  });

  it('treats a 500 as retryable (neither permanent nor rate limited)', async () => {
    const { endpoint, channel } = await setup({ failWith: () => INTERNAL_ERROR });
    const err = await rejection(channel.send(sms(), ctx()));
    expect(err).toBeInstanceOf(HeraldError);
    expect(err.code).toBe('SNS_UNAVAILABLE');
    expect(isPermanent(err)).toBe(false);
    expect(isRateLimited(err)).toBe(false);
    expect(endpoint.requests).toHaveLength(1);
  });

  it.each(['4915112345678', '+0151123456', '+49 151 1234', '+12345', 'alice@example.com'])(
    'rejects %s as INVALID_PHONE without a request',
    async (to) => {
      const { endpoint, channel } = await setup();
      const err = await rejection(channel.send(sms({ to }), ctx()));
      expect(err).toBeInstanceOf(PermanentError);
      expect(err.code).toBe('INVALID_PHONE');
      expect(err.message).not.toContain(to);
      expect(endpoint.requests).toHaveLength(0);
    },
  );

  it('passes the abort signal to the SDK: an abort ends a hanging publish as retryable', async () => {
    const { endpoint, channel } = await setup({ hold: () => true });
    const controller = new AbortController();
    const pending = rejection(channel.send(sms(), ctx(controller.signal)));
    await endpoint.waitForRequest(1);
    controller.abort();
    const err = await pending;
    expect(err.code).toBe('SNS_ABORTED');
    expect(isPermanent(err)).toBe(false);
  });

  it('maps an unreachable endpoint to a retryable connection error', async () => {
    const endpoint = await startSnsEndpoint();
    await endpoint.close();
    const channel = makeSnsChannel({
      logger,
      clientConfig: {
        endpoint: endpoint.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
      },
    });
    cleanups.push(() => channel.close());
    const err = await rejection(channel.send(sms(), ctx()));
    expect(err.code).toBe('SNS_FAILED');
    expect(isPermanent(err)).toBe(false);
    expect(isRateLimited(err)).toBe(false);
  });

  it('does not destroy a client it was given', async () => {
    const endpoint = await startSnsEndpoint();
    cleanups.push(() => endpoint.close());
    const client = new SNSClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    });
    cleanups.push(async () => client.destroy());
    const first = makeSnsChannel({ logger, client });
    await first.close();
    const second = makeSnsChannel({ logger, client });
    await second.send(sms(), ctx());
    expect(endpoint.requests).toHaveLength(1);
    await second.close();
  });

  it('refuses an invalid sender id at construction', () => {
    expect(() => makeSnsChannel({ logger, senderId: 'Herald Notify!' })).toThrow(ConfigError);
  });
});

describe('classifySnsError', () => {
  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
  it.each([
    ['ThrottlingException', 400, 'rate'],
    ['ThrottledException', 400, 'rate'],
    ['TooManyRequestsException', 429, 'rate'],
    ['InvalidParameterValueException', 400, 'permanent'],
    ['EndpointDisabledException', 400, 'permanent'],
    ['OptedOutException', 400, 'permanent'],
    ['AuthorizationErrorException', 403, 'permanent'],
    ['NotFoundException', 404, 'permanent'],
    ['SomeOtherValidation', 400, 'permanent'],
    ['ExpiredToken', 403, 'retry'],
    ['InternalErrorException', 500, 'retry'],
    ['ServiceUnavailable', 503, 'retry'],
  ])('%s (HTTP %i) → %s', (name, status, expected) => {
    const err = classifySnsError(Object.assign(new Error('boom'), { name, ...meta(status) }));
    const kind = isRateLimited(err) ? 'rate' : isPermanent(err) ? 'permanent' : 'retry';
    expect(kind).toBe(expected);
  });

  it('treats $fault server as retryable even without a status', () => {
    const err = classifySnsError(Object.assign(new Error('x'), { name: 'Weird', $fault: 'server' }));
    expect(isPermanent(err) || isRateLimited(err)).toBe(false);
  });
});
