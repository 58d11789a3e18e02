/**
 * SMS through Twilio with the official `twilio` package, as ZITADEL's Twilio channel sends
 * (internal/notification/channels/twilio): a plain message from `senderNumber`, or — when
 * the instance's config has a `verifyServiceSid` — a Twilio Verify verification (channel
 * "sms"), whose code Twilio generates and checks itself. The verification id goes back
 * to the worker as generatorInfo `{id: <provider id>, verificationId}` for the `*.sent` event.
 *
 * The package's own HTTP client is used, subclassed only to (a) honour the job's abort
 * signal, which the SDK has no per-call option for: the signal of the running send is
 * carried in an AsyncLocalStorage and attached to the axios request; and (b) for tests, send
 * every request to a local origin instead of *.twilio.com.
 *
 * Errors: HTTP 429 or Twilio code 20429 → RateLimitedError; Verify 60203 (too many
 * attempts) and any other 4xx → PermanentError; 5xx, network and timeouts → retried.
 * Twilio's error texts can echo the phone number, so only status and code are kept.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import twilio from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponseModule from 'twilio/lib/http/response.js';

import { coerceError, ConfigError, HeraldError, PermanentError, RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Channel, SendContext, SendResult, SmsMessage } from './types.js';

type TwilioResponse<T> = TwilioResponseModule.default<T>;
type ClientOpts = NonNullable<Parameters<typeof twilio>[2]>;

export interface TwilioChannelOptions {
  /** Account SID (AC…). */
  readonly sid: string;
  /** Auth token. Never logged. */
  readonly token: string;
  readonly senderNumber: string;
  /** Non-empty: send through Twilio Verify. */
  readonly verifyServiceSid?: string;
  /** The instance's SMS provider id, reported as generatorInfo.id with Verify. */
  readonly providerId?: string;
  readonly logger: Logger;
  /** Bound on one API request. @defaultValue 10000 */
  readonly timeoutMs?: number;
  /** Passed to the Twilio client (region, edge, keepAlive, …); `httpClient` is herald's. */
  readonly clientOptions?: Omit<ClientOpts, 'httpClient'>;
  /**
   * @internal Every API request goes to this origin (e.g. `http://127.0.0.1:4010`) with its
   * path kept, instead of api.twilio.com / verify.twilio.com. For tests against a local endpoint.
   */
  readonly apiBaseUrl?: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const TOO_MANY_REQUESTS_CODE = 20_429;
const MAX_SEND_ATTEMPTS_REACHED = 60_203;

/** The signal of the send in progress; read by the HTTP client below. */
const currentSignal = new AsyncLocalStorage<AbortSignal>();

function makeHttpClient(timeoutMs: number, apiBaseUrl: string | undefined): TwilioRequestClient {
  const base = apiBaseUrl === undefined ? undefined : new URL(apiBaseUrl);
  class HeraldRequestClient extends twilio.RequestClient {
    constructor() {
      super({ timeout: timeoutMs, autoRetry: false });
      this.axios.interceptors.request.use((config) => {
        const signal = currentSignal.getStore();
        if (signal) config.signal = signal;
        return config;
      });
    }

    override request<TData>(opts: TwilioRequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
      if (!base) return super.request<TData>(opts);
      const target = new URL(opts.uri);
      target.protocol = base.protocol;
      target.host = base.host;
      return super.request<TData>({ ...opts, uri: target.href });
    }
  }
  return new HeraldRequestClient();
}

interface TwilioLikeError {
  readonly status: number;
  readonly code?: number;
}

function isTwilioError(err: unknown): err is TwilioLikeError {
  return (
    err instanceof Error && typeof (err as { status?: unknown }).status === 'number' && (err as { isAxiosError?: unknown }).isAxiosError !== true
  );
}

/** Maps what the SDK threw; the result carries only status and code, never Twilio's text. */
export function classifyTwilioError(err: unknown, signal: AbortSignal): Error {
  if (isTwilioError(err)) {
    const { status, code } = err;
    const what = `twilio answered ${status}${code === undefined ? '' : ` (code ${code})`}`;
    const extra = { status, ...(code === undefined ? {} : { twilioCode: code }) };
    // Twilio answers 60203 with HTTP 429, but waiting does not help: ZITADEL cancels it.
    if (code === MAX_SEND_ATTEMPTS_REACHED) {
      return Object.assign(new PermanentError('TWILIO_MAX_ATTEMPTS', `${what}: max send attempts reached`), extra);
    }
    if (status === 429 || code === TOO_MANY_REQUESTS_CODE) {
      return Object.assign(new RateLimitedError('PROVIDER_THROTTLED', `${what}: throttled`), extra);
    }
    if (status >= 400 && status < 500) return Object.assign(new PermanentError('TWILIO_REJECTED', what), extra);
    return Object.assign(new HeraldError('TWILIO_UNAVAILABLE', what), extra);
  }
  if (signal.aborted) return new HeraldError('TWILIO_ABORTED', 'twilio request aborted');
  const e = coerceError(err) as Error & { code?: unknown };
  const code = typeof e.code === 'string' ? e.code : e.name;
  return new HeraldError('TWILIO_UNAVAILABLE', `twilio request failed: ${code}`, { cause: err });
}

export function makeTwilioChannel(opts: TwilioChannelOptions): Channel<SmsMessage> {
  if (!opts.sid.startsWith('AC')) throw new ConfigError('twilio account sid must start with AC');
  if (opts.token === '') throw new ConfigError('twilio token is empty');
  const verifyServiceSid = opts.verifyServiceSid ?? '';
  if (verifyServiceSid === '' && opts.senderNumber === '') throw new ConfigError('twilio sender number is empty');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = twilio(opts.sid, opts.token, {
    ...opts.clientOptions,
    // Credentials come from the instance config only; the SDK itself still honours
    // TWILIO_EDGE, TWILIO_REGION and HTTP_PROXY from the process environment.
    env: {},
    httpClient: makeHttpClient(timeoutMs, opts.apiBaseUrl),
  });
  const log = opts.logger.child({ channel: 'twilio' });
  let closed = false;

  async function deliver(message: SmsMessage): Promise<SendResult> {
    if (verifyServiceSid !== '') {
      // ZITADEL sends every SMS of a Verify provider as a verification; the text is Twilio's.
      const verification = await client.verify.v2.services(verifyServiceSid).verifications.create({ to: message.to, channel: 'sms' });
      return {
        providerMessageId: verification.sid,
        generatorInfo: { id: opts.providerId ?? '', verificationId: verification.sid },
      };
    }
    const sent = await client.messages.create({ to: message.to, from: opts.senderNumber, body: message.text });
    return { providerMessageId: sent.sid };
  }

  async function send(message: SmsMessage, ctx: SendContext): Promise<SendResult> {
    if (closed) throw new HeraldError('CHANNEL_CLOSED', 'twilio channel is closed');
    if (ctx.signal.aborted) throw new HeraldError('TWILIO_ABORTED', 'twilio request aborted');
    const started = Date.now();
    try {
      const result = await currentSignal.run(ctx.signal, () => deliver(message));
      ctx.logger.debug(
        { channel: 'twilio', verify: verifyServiceSid !== '', messageType: message.messageType, durationMs: Date.now() - started },
        'sms accepted by twilio',
      );
      return result;
    } catch (err) {
      throw classifyTwilioError(err, ctx.signal);
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    log.debug('twilio channel closed');
  }

  return { name: 'twilio', send, close };
}
