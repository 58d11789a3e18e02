/**
 * SMS through Amazon SNS `Publish` to a phone number (house style §2, §10, §12).
 *
 * Region, endpoint and credentials come from the SDK's own resolution (AWS_REGION,
 * AWS_ENDPOINT_URL_SNS, the default credential chain); this file never reads the environment.
 * The SDK's own retries are off by default (`maxAttempts: 1`): herald's queue owns the retry
 * policy (§11), and an SDK retry loop inside one attempt would hide throttling from it and
 * multiply the attempt count. Pass `clientConfig.maxAttempts` to change that.
 */
import type { PublishCommandInput, SNSClientConfig } from '@aws-sdk/client-sns';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

import { coerceError, ConfigError, HeraldError, PermanentError, RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Channel, SendContext, SendResult, SmsMessage } from './types.js';

export type SmsType = 'Transactional' | 'Promotional';

export interface SnsChannelOptions {
  readonly logger: Logger;
  /** Alphanumeric sender id (1–11 chars, at least one letter); only some countries honour it. */
  readonly senderId?: string;
  /** @defaultValue 'Transactional' (SNS optimises for reliability, needed for codes). */
  readonly smsType?: SmsType;
  /** A client owned by the caller; `close()` leaves it alone. */
  readonly client?: SNSClient;
  /** Extra config for the client this channel creates, e.g. `{ endpoint, region, credentials }` in tests. */
  readonly clientConfig?: SNSClientConfig;
}

/** E.164: a plus, a non-zero country digit, 7–15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;
const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;

/** SNS error codes (the SDK's `name`, without any `Exception` suffix) meaning "slow down". */
const THROTTLED = new Set(['Throttling', 'Throttled', 'TooManyRequests', 'RequestLimitExceeded', 'KMSThrottling']);

/** The request or the recipient is wrong and will stay wrong: cancel, do not retry. */
const REJECTED = new Set([
  'InvalidParameter',
  'InvalidParameterValue',
  'ParameterValueInvalid',
  'EndpointDisabled',
  'OptedOut',
  'AuthorizationError',
  'NotFound',
  'Validation',
  'ValidationError',
  'KMSAccessDenied',
  'KMSDisabled',
  'KMSInvalidState',
  'KMSNotFound',
  'KMSOptInRequired',
]);

/**
 * 4xx answers that judge our clock or credentials, not the message: they clear up by
 * themselves (refreshed credentials, corrected clock), so they are retried like a 5xx.
 */
const TRANSIENT_CLIENT = new Set(['ExpiredToken', 'RequestExpired', 'RequestTimeout', 'IDPCommunicationError', 'ConcurrentAccess']);

interface AwsLikeError {
  readonly name?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
}

const PHONE_LIKE = /\+?\d[\d ().-]{5,}\d/g;

/** SNS messages quote the number ("… +4915… is not valid"); it must not reach logs or events. */
function scrub(text: string): string {
  return text
    .replace(PHONE_LIKE, '<number>')
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 300);
}

/** SNS's throttle text ("Rate exceeded"), checked on a bounded prefix without a pattern. */
function rateExceeded(err: unknown): boolean {
  return coerceError(err).message.slice(0, 64).toLowerCase().startsWith('rate exceeded');
}

/**
 * Maps whatever `client.send` threw to herald's error classes. The original error is not kept
 * as `cause` (its message can carry the phone number); name, status and request id are copied.
 */
export function classifySnsError(err: unknown): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsLikeError;
  const rawName = typeof e.name === 'string' ? e.name : 'Error';
  const code = rawName.replace(/Exception$/, '');
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const fault = typeof e.$fault === 'string' ? e.$fault : undefined;
  const requestId = typeof e.$metadata?.requestId === 'string' ? ` requestId=${e.$metadata.requestId}` : '';
  const detail = scrub(`${rawName}${status === undefined ? '' : ` (HTTP ${status})`}: ${coerceError(err).message}`);
  const extra = { snsCode: code, ...(status === undefined ? {} : { httpStatusCode: status }) };

  if (rawName === 'AbortError') {
    return Object.assign(new HeraldError('SNS_ABORTED', `SNS publish aborted: ${detail}`), extra);
  }
  if (THROTTLED.has(code) || status === 429 || rateExceeded(err)) {
    const throttled = new RateLimitedError('PROVIDER_THROTTLED', `SNS throttled the publish: ${detail}${requestId}`);
    return Object.assign(throttled, extra);
  }
  if (REJECTED.has(code)) {
    return Object.assign(new PermanentError('SNS_REJECTED', `SNS rejected the SMS: ${detail}${requestId}`), extra);
  }
  const serverSide = fault === 'server' || (status !== undefined && status >= 500);
  if (!serverSide && !TRANSIENT_CLIENT.has(code) && status !== undefined && status >= 400 && status < 500) {
    // Any other answered 4xx is a validation failure of this request.
    return Object.assign(new PermanentError('SNS_REJECTED', `SNS rejected the SMS: ${detail}${requestId}`), extra);
  }
  if (serverSide || status !== undefined) {
    return Object.assign(new HeraldError('SNS_UNAVAILABLE', `SNS failed: ${detail}${requestId}`), extra);
  }
  // No HTTP answer at all: connection refused/reset, DNS, socket timeout, credential lookup.
  return Object.assign(new HeraldError('SNS_FAILED', `SNS publish failed: ${detail}`), extra);
}

export function makeSnsChannel(opts: SnsChannelOptions): Channel<SmsMessage> {
  if (opts.senderId !== undefined && !SENDER_ID.test(opts.senderId)) {
    throw new ConfigError('SNS sender id must be 1-11 letters or digits with at least one letter');
  }
  const smsType: SmsType = opts.smsType ?? 'Transactional';
  const owned = opts.client === undefined;
  const client = opts.client ?? new SNSClient({ maxAttempts: 1, ...opts.clientConfig });
  const log = opts.logger.child({ channel: 'sns' });
  let closed = false;

  const attributes: NonNullable<PublishCommandInput['MessageAttributes']> = {
    'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: smsType },
    ...(opts.senderId === undefined ? {} : { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: opts.senderId } }),
  };

  async function send(message: SmsMessage, ctx: SendContext): Promise<SendResult> {
    if (closed) throw new HeraldError('CHANNEL_CLOSED', 'sns channel is closed');
    if (!E164.test(message.to)) {
      throw new PermanentError('INVALID_PHONE', 'recipient is not an E.164 phone number (+ and 7-15 digits)');
    }
    if (message.text.trim() === '') {
      throw new PermanentError('EMPTY_MESSAGE', 'SMS text is empty');
    }
    const command = new PublishCommand({
      PhoneNumber: message.to,
      Message: message.text,
      MessageAttributes: attributes,
    });
    const started = Date.now();
    let messageId: string | undefined;
    try {
      ({ MessageId: messageId } = await client.send(command, { abortSignal: ctx.signal }));
    } catch (err) {
      throw classifySnsError(err);
    }
    ctx.logger.debug({ channel: 'sns', messageType: message.messageType, durationMs: Date.now() - started }, 'sms accepted by SNS');
    return messageId === undefined ? {} : { providerMessageId: messageId };
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    // A client passed in belongs to the caller, who may share it.
    if (owned) client.destroy();
    log.debug('sns channel closed');
  }

  return { name: 'sns', send, close };
}
