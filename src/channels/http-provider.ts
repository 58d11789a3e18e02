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
 * The pieces ZITADEL sends besides the recipient (unrendered templateData, args, the event
 * type) travel on the message itself (`message.zitadel`, filled by the worker); a message
 * without them is sent with the rendered subject/text and no args. Unlike herald's own
 * webhook there is no signature and no herald field: ZITADEL 2.66 has neither.
 *
 * The endpoint is the instance admin's input: requests go through herald's bounded HTTP
 * client (src/net/http.ts) with the egress rule, no redirects, a bounded answer and timeouts.
 */
import { PermanentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EgressPolicy } from '../net/egress.js';
import { STRICT_EGRESS } from '../net/egress.js';
import { makeHttpClient } from '../net/http.js';
import { statusError, transportError } from './http-outcome.js';
import type { Channel, EmailMessage, JsonValue, SendContext, SendResult, SmsMessage, ZitadelPayload, ZitadelTemplateData } from './types.js';

export type { JsonValue, ZitadelPayload, ZitadelTemplateData } from './types.js';

export interface HttpProviderBody {
  readonly contextInfo: Readonly<Record<string, JsonValue>>;
  readonly templateData: ZitadelTemplateData;
  readonly args?: Readonly<Record<string, JsonValue>>;
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
  /** The egress rule the endpoint's addresses must pass. @defaultValue STRICT_EGRESS */
  readonly egress?: EgressPolicy;
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

/** What is sent without a ZITADEL payload: the rendered message. */
function renderedPayload(message: EmailMessage | SmsMessage): ZitadelPayload {
  return {
    eventType: 'notification.requested',
    templateData: message.kind === 'email' ? { subject: message.subject, text: message.text } : { text: message.text },
    args: {},
  };
}

const LABELS = { code: 'HTTP_PROVIDER', what: 'http provider' } as const;

/**
 * The endpoint as a URL, or the PermanentError that cancels: a setting that can never work
 * is not retried. The text names the rule, never the endpoint (it may hold a token).
 */
export function parseProviderEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new PermanentError('PROVIDER_SETTINGS_INVALID', "the instance's HTTP provider endpoint is not a valid URL");
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError('PROVIDER_SETTINGS_INVALID', "the instance's HTTP provider endpoint must be an http:// or https:// URL");
  }
  return url;
}

function makeHttpProviderChannel<M extends EmailMessage | SmsMessage>(name: string, opts: HttpProviderOptions): Channel<M> {
  const url = parseProviderEndpoint(opts.endpoint);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const provider = { id: opts.providerId, description: opts.description };
  const client = makeHttpClient({ timeoutMs, egress: opts.egress ?? STRICT_EGRESS });

  async function send(message: M, ctx: SendContext): Promise<SendResult> {
    const body = JSON.stringify(buildHttpProviderBody(message, provider, message.zitadel ?? renderedPayload(message)));
    const started = Date.now();
    let answer;
    try {
      answer = await client.post(url, body, { 'content-type': 'application/json' }, ctx.signal);
    } catch (err) {
      throw transportError(LABELS, err, timeoutMs);
    }
    const failed = statusError(LABELS, answer);
    if (failed) throw failed;
    ctx.logger.debug(
      { channel: name, messageType: message.messageType, status: answer.status, durationMs: Date.now() - started },
      'notification accepted by http provider',
    );
    return {};
  }

  return {
    name,
    send,
    async close() {
      client.close();
    },
  };
}

export function makeHttpEmailProviderChannel(opts: HttpProviderOptions): Channel<EmailMessage> {
  return makeHttpProviderChannel<EmailMessage>('http-email', opts);
}

export function makeHttpSmsProviderChannel(opts: HttpProviderOptions): Channel<SmsMessage> {
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
