/**
 * Email or SMS as a JSON POST, shaped like ZITADEL's HTTP notification provider
 * (`internal/notification/types/user_email.go`, `user_phone.go`), so a receiver written for
 * ZITADEL's HTTP provider reads herald's requests too. The exact body:
 *
 * ```json
 * {
 *   "contextInfo": {
 *     "recipientEmailAddress": "<to>",        // email; an SMS has "recipientPhoneNumber" instead
 *     "eventType": "notification.requested",  // what ZITADEL sends in worker mode
 *     "provider": { "id": "<providerId>", "description": "<providerDescription>" },
 *     "messageType": "InitCode",              // herald extensions: ZITADEL MessageType,
 *     "notificationId": "<aggregate id>",     //   notification aggregate id (stable across
 *     "instanceId": "<instance id>"           //   retries: use it to deduplicate)
 *   },
 *   "templateData": { "subject": "…", "text": "…", "html": "…" },  // an SMS: { "text": "…" }
 *   "args": {}
 * }
 * ```
 *
 * ZITADEL's templateData carries the unrendered pieces (title, greeting, url, …) and args the
 * notification arguments; herald's Channel port carries the rendered message only, so
 * templateData holds the rendered subject/text/html and args stays empty.
 *
 * Signing is herald's own scheme (ZITADEL's HTTP provider had none before #10641, Sep 2025):
 * `X-Herald-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<raw body>")>`. The
 * timestamp is signed with the body so a receiver can reject replays outside a window.
 */
import { createHmac } from 'node:crypto';

import { coerceError, ConfigError, HeraldError, PermanentError, RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Channel, OutgoingMessage, SendContext, SendResult } from './types.js';

export interface WebhookChannelOptions {
  /** http(s) URL the JSON is POSTed to (HERALD_WEBHOOK_URL). Never logged: it may hold a token. */
  readonly url: string;
  /** HMAC-SHA256 key (HERALD_WEBHOOK_SIGNING_KEY); without it no signature header is sent. */
  readonly signingKey?: string;
  /** Bound on one request, headers and body. @defaultValue 10000 */
  readonly timeoutMs?: number;
  readonly logger: Logger;
  /** `contextInfo.provider.id`. @defaultValue 'herald-webhook' */
  readonly providerId?: string;
  /** `contextInfo.provider.description`. @defaultValue 'herald webhook' */
  readonly providerDescription?: string;
}

export const SIGNATURE_HEADER = 'X-Herald-Signature';
const DEFAULT_TIMEOUT_MS = 10_000;

export interface WebhookBody {
  readonly contextInfo: {
    readonly recipientEmailAddress?: string;
    readonly recipientPhoneNumber?: string;
    readonly eventType: string;
    readonly provider: { readonly id: string; readonly description: string };
    readonly messageType: string;
    readonly notificationId: string;
    readonly instanceId: string;
  };
  readonly templateData: { readonly subject?: string; readonly text: string; readonly html?: string };
  readonly args: Record<string, never>;
}

export function buildWebhookBody(message: OutgoingMessage, provider: { id: string; description: string }): WebhookBody {
  const recipient =
    message.kind === 'email' ? { recipientEmailAddress: message.to } : { recipientPhoneNumber: message.to };
  return {
    contextInfo: {
      ...recipient,
      eventType: 'notification.requested',
      provider,
      messageType: message.messageType,
      notificationId: message.notificationId,
      instanceId: message.instanceId,
    },
    templateData:
      message.kind === 'email'
        ? { subject: message.subject, text: message.text, html: message.html }
        : { text: message.text },
    args: {},
  };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export function signWebhookBody(key: string, rawBody: string, unixSeconds: number): string {
  const mac = createHmac('sha256', key).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Maps a non-2xx status; 408 is the receiver timing out, so it is retried like a 5xx. */
function statusError(status: number, retryAfter: string | null): Error {
  if (status === 429) {
    const wait = retryAfterMs(retryAfter);
    const err = new RateLimitedError('WEBHOOK_RATE_LIMITED', 'webhook answered 429 Too Many Requests');
    return Object.assign(err, { status }, wait === undefined ? {} : { retryAfterMs: wait });
  }
  if (status >= 500 || status === 408) {
    return Object.assign(new HeraldError('WEBHOOK_UNAVAILABLE', `webhook answered ${status}`), { status });
  }
  // 3xx (redirects are not followed: a POST with a signature must not wander) and other 4xx.
  return Object.assign(new PermanentError('WEBHOOK_REJECTED', `webhook rejected the notification with ${status}`), {
    status,
  });
}

/** A failure before any status arrived. The URL and body stay out of the message. */
function transportError(err: unknown, timeout: AbortSignal, caller: AbortSignal, timeoutMs: number): Error {
  if (timeout.aborted) {
    return new HeraldError('WEBHOOK_TIMEOUT', `webhook did not answer within ${timeoutMs} ms`);
  }
  if (caller.aborted) return new HeraldError('WEBHOOK_ABORTED', 'webhook request aborted');
  const cause = (coerceError(err) as Error & { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : coerceError(err).name;
  return new HeraldError('WEBHOOK_UNAVAILABLE', `webhook request failed: ${code}`);
}

/** Reads the rest of the answer so the connection can be reused; its content is not used. */
async function drain(res: Response): Promise<void> {
  try {
    await res.arrayBuffer();
  } catch {
    // The status already decided the outcome.
  }
}

export function makeWebhookChannel(opts: WebhookChannelOptions): Channel<OutgoingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new ConfigError('webhook URL is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError('webhook URL must be http or https');
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigError('webhook timeoutMs must be a positive integer');
  }
  if (opts.signingKey === '') throw new ConfigError('webhook signing key is empty');
  const provider = {
    id: opts.providerId ?? 'herald-webhook',
    description: opts.providerDescription ?? 'herald webhook',
  };
  const log = opts.logger.child({ channel: 'webhook' });
  let closed = false;

  async function send(message: OutgoingMessage, ctx: SendContext): Promise<SendResult> {
    if (closed) throw new HeraldError('CHANNEL_CLOSED', 'webhook channel is closed');
    const raw = JSON.stringify(buildWebhookBody(message, provider));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'herald' };
    if (opts.signingKey !== undefined) {
      headers[SIGNATURE_HEADER] = signWebhookBody(opts.signingKey, raw, Math.floor(Date.now() / 1000));
    }
    // AbortSignal.timeout's timer is unref'd and released with the signal: nothing to clear.
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(opts.url, { method: 'POST', headers, body: raw, signal, redirect: 'manual' });
    } catch (err) {
      throw transportError(err, timeout, ctx.signal, timeoutMs);
    }
    await drain(res);
    if (res.status < 200 || res.status >= 300) throw statusError(res.status, res.headers.get('retry-after'));
    const durationMs = Date.now() - started;
    ctx.logger.debug(
      { channel: 'webhook', kind: message.kind, messageType: message.messageType, status: res.status, durationMs },
      'notification accepted by webhook',
    );
    return {};
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    // fetch keeps no per-channel resources: undici's global pool closes idle sockets itself.
    log.debug('webhook channel closed');
  }

  return { name: 'webhook', send, close };
}
