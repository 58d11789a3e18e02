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

import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { makeHttpClient } from '../net/http.js';
import { statusError, transportError } from './http-outcome.js';
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
  const recipient = message.kind === 'email' ? { recipientEmailAddress: message.to } : { recipientPhoneNumber: message.to };
  return {
    contextInfo: {
      ...recipient,
      eventType: 'notification.requested',
      provider,
      messageType: message.messageType,
      notificationId: message.notificationId,
      instanceId: message.instanceId,
    },
    templateData: message.kind === 'email' ? { subject: message.subject, text: message.text, html: message.html } : { text: message.text },
    args: {},
  };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export function signWebhookBody(key: string, rawBody: string, unixSeconds: number): string {
  const mac = createHmac('sha256', key).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

const LABELS = { code: 'WEBHOOK', what: 'webhook' } as const;

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
  // The operator's own URL: no egress rule, the same bounds as for tenant providers.
  const client = makeHttpClient({ timeoutMs });
  let closed = false;

  async function send(message: OutgoingMessage, ctx: SendContext): Promise<SendResult> {
    const raw = JSON.stringify(buildWebhookBody(message, provider));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'herald' };
    if (opts.signingKey !== undefined) {
      headers[SIGNATURE_HEADER] = signWebhookBody(opts.signingKey, raw, Math.floor(Date.now() / 1000));
    }
    const started = Date.now();
    let answer;
    try {
      answer = await client.post(parsed, raw, headers, ctx.signal);
    } catch (err) {
      throw transportError(LABELS, err, timeoutMs);
    }
    const failed = statusError(LABELS, answer);
    if (failed) throw failed;
    const durationMs = Date.now() - started;
    ctx.logger.debug(
      { channel: 'webhook', kind: message.kind, messageType: message.messageType, status: answer.status, durationMs },
      'notification accepted by webhook',
    );
    return {};
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    client.close();
    log.debug('webhook channel closed');
  }

  return { name: 'webhook', send, close };
}
