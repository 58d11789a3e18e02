/**
 * ZITADEL's HTTP email and SMS providers (`instance.smtp.config.http.added`,
 * `instance.sms.confighttp.added`): a JSON POST to the configured endpoint with exactly the
 * body ZITADEL 2.66 sends (internal/notification/types/user_email.go, user_phone.go):
 *
 * ```json
 * { "contextInfo": { "recipientEmailAddress": "…",  // SMS: "recipientPhoneNumber"
 *                    "eventType": "notification.requested",
 *                    "provider": { "id": "…", "description": "…" } },
 *   "templateData": { "title": "…", "preHeader": "…", "subject": "…", "greeting": "…", "text": "…",
 *                     "url": "…", "buttonText": "…", "primaryColor": "…", … },   // omitempty fields
 *   "args": { "code": "…", "displayName": "…", "expiry": 300000000000, … } }        // lowerCamel keys
 * ```
 *
 * The Channel port carries only the rendered message, so `send` fills templateData with the
 * rendered subject/text and sends no args. To send ZITADEL's full body the worker calls
 * `sendZitadel(message, payload, ctx)` with the unrendered pieces (templateData) and the
 * template args; `isHttpProviderChannel` tells the two kinds of channel apart. Unlike
 * herald's own webhook there is no signature and no herald field: ZITADEL 2.66 has neither.
 */
import { coerceError, ConfigError, HeraldError, PermanentError, RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Channel, EmailMessage, SendContext, SendResult, SmsMessage } from './types.js';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** templates.TemplateData with its JSON tags; every field is omitempty. */
export interface ZitadelTemplateData {
  readonly title?: string;
  readonly preHeader?: string;
  readonly subject?: string;
  readonly greeting?: string;
  readonly text?: string;
  readonly url?: string;
  readonly buttonText?: string;
  readonly primaryColor?: string;
  readonly backgroundColor?: string;
  readonly fontColor?: string;
  readonly logoUrl?: string;
  readonly fontUrl?: string;
  readonly fontFaceFamily?: string;
  readonly fontFamily?: string;
  readonly includeFooter?: boolean;
  readonly footerText?: string;
}

export interface ZitadelPayload {
  /** The notification's event type in worker mode: `notification.requested` or `notification.retry.requested`. */
  readonly eventType: string;
  readonly templateData: ZitadelTemplateData;
  /**
   * The template args under ZITADEL's names (Code, DisplayName, Expiry, …), valued as Go
   * marshals them: Expiry in nanoseconds, LoginNames an array or null. Keys are lower-camelled here.
   */
  readonly args: Readonly<Record<string, JsonValue | undefined>>;
}

export interface HttpProviderBody {
  readonly contextInfo: Readonly<Record<string, JsonValue>>;
  readonly templateData: ZitadelTemplateData;
  readonly args?: Readonly<Record<string, JsonValue>>;
}

export interface HttpProviderChannel<M extends EmailMessage | SmsMessage> extends Channel<M> {
  /** Sends ZITADEL's full body: the unrendered template data and the args. */
  sendZitadel(message: M, payload: ZitadelPayload, ctx: SendContext): Promise<SendResult>;
}

export function isHttpProviderChannel<M extends EmailMessage | SmsMessage>(
  channel: Channel<M>,
): channel is HttpProviderChannel<M> {
  return typeof (channel as Partial<HttpProviderChannel<M>>).sendZitadel === 'function';
}

export interface HttpProviderOptions {
  /** The provider's endpoint (http or https). Never logged: it may hold a token. */
  readonly endpoint: string;
  /** The provider config's id and description, sent as contextInfo.provider. */
  readonly providerId: string;
  readonly description: string;
  readonly logger: Logger;
  /** Bound on one request. @defaultValue 10000 */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Go's `strings.ToLower(string(k[0])) + k[1:]`. */
export function lowerCamel(key: string): string {
  return key === '' ? key : key.charAt(0).toLowerCase() + key.slice(1);
}

/** encoding/json omitempty: "" and false leave the field out. */
function omitEmpty(data: ZitadelTemplateData): ZitadelTemplateData {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== '' && v !== false && v !== undefined));
}

export function buildHttpProviderBody(
  message: EmailMessage | SmsMessage,
  provider: { readonly id: string; readonly description: string },
  payload: ZitadelPayload,
): HttpProviderBody {
  const recipientKey = message.kind === 'email' ? 'recipientEmailAddress' : 'recipientPhoneNumber';
  const args: Record<string, JsonValue> = {};
  // Go marshals maps with sorted keys; the order is kept so bodies compare byte for byte.
  const entries = Object.entries(payload.args).map(([k, v]) => [lowerCamel(k), v] as const);
  for (const [k, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (v !== undefined) args[k] = v;
  return {
    contextInfo: {
      eventType: payload.eventType,
      provider: { id: provider.id, description: provider.description },
      [recipientKey]: message.to,
    },
    templateData: omitEmpty(payload.templateData),
    // A Go map with omitempty: an empty one is left out.
    ...(Object.keys(args).length > 0 ? { args } : {}),
  };
}

/** What `send` (no ZITADEL payload) puts in templateData: the rendered message. */
function renderedPayload(message: EmailMessage | SmsMessage): ZitadelPayload {
  return {
    eventType: 'notification.requested',
    templateData: message.kind === 'email' ? { subject: message.subject, text: message.text } : { text: message.text },
    args: {},
  };
}

function statusError(status: number): Error {
  if (status === 429) return Object.assign(new RateLimitedError('HTTP_PROVIDER_RATE_LIMITED', 'http provider answered 429'), { status });
  if (status >= 500 || status === 408) {
    return Object.assign(new HeraldError('HTTP_PROVIDER_UNAVAILABLE', `http provider answered ${status}`), { status });
  }
  // Other 4xx, and 3xx: a redirect is not followed, so it can never succeed either.
  return Object.assign(new PermanentError('HTTP_PROVIDER_REJECTED', `http provider rejected the notification with ${status}`), {
    status,
  });
}

function transportError(err: unknown, timeout: AbortSignal, caller: AbortSignal, timeoutMs: number): Error {
  if (timeout.aborted) return new HeraldError('HTTP_PROVIDER_TIMEOUT', `http provider did not answer within ${timeoutMs} ms`);
  if (caller.aborted) return new HeraldError('HTTP_PROVIDER_ABORTED', 'http provider request aborted');
  const cause = (coerceError(err) as Error & { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : coerceError(err).name;
  return new HeraldError('HTTP_PROVIDER_UNAVAILABLE', `http provider request failed: ${code}`);
}

function makeHttpProviderChannel<M extends EmailMessage | SmsMessage>(
  name: string,
  opts: HttpProviderOptions,
): HttpProviderChannel<M> {
  let url: URL;
  try {
    url = new URL(opts.endpoint);
  } catch {
    throw new ConfigError('http provider endpoint is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('http provider endpoint must be http or https');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const provider = { id: opts.providerId, description: opts.description };
  let closed = false;

  async function sendZitadel(message: M, payload: ZitadelPayload, ctx: SendContext): Promise<SendResult> {
    if (closed) throw new HeraldError('CHANNEL_CLOSED', 'http provider channel is closed');
    const body = JSON.stringify(buildHttpProviderBody(message, provider, payload));
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal, redirect: 'manual' });
      await res.arrayBuffer().catch(() => undefined); // drain so the connection is reused
    } catch (err) {
      throw transportError(err, timeout, ctx.signal, timeoutMs);
    }
    if (res.status < 200 || res.status >= 300) throw statusError(res.status);
    ctx.logger.debug(
      { channel: name, messageType: message.messageType, status: res.status, durationMs: Date.now() - started },
      'notification accepted by http provider',
    );
    return {};
  }

  return {
    name,
    send: (message, ctx) => sendZitadel(message, renderedPayload(message), ctx),
    sendZitadel,
    async close() {
      closed = true;
    },
  };
}

export function makeHttpEmailProviderChannel(opts: HttpProviderOptions): HttpProviderChannel<EmailMessage> {
  return makeHttpProviderChannel<EmailMessage>('http-email', opts);
}

export function makeHttpSmsProviderChannel(opts: HttpProviderOptions): HttpProviderChannel<SmsMessage> {
  return makeHttpProviderChannel<SmsMessage>('http-sms', opts);
}

/**
 * The worker's template args (content/args.ts, where Expiry is pre-formatted as "5m0s")
 * with the values ZITADEL marshals instead: Expiry as nanoseconds when the request has it.
 */
export function zitadelJsonArgs(
  args: Readonly<Record<string, string | number | boolean | readonly string[] | null | undefined>>,
  expiryNs: number | undefined,
): Record<string, JsonValue | undefined> {
  const out: Record<string, JsonValue | undefined> = { ...args };
  if ('Expiry' in out) out.Expiry = expiryNs ?? 0;
  return out;
}
