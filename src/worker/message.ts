/**
 * From request + recipient to a rendered message: recipient address, previous domain,
 * decrypted code, args, texts. Every failure here is permanent (the input cannot change).
 */
import type { EmailMessage, SmsMessage } from '../channels/types.js';
import { type Branding, buildArgs, type MailTemplateData, renderMessage, type TemplateArgs, type TextSettings } from '../content/index.js';
import type { Keyring } from '../crypto/keyring.js';
import { PermanentError } from '../errors.js';
import { type NotificationRequest, NotificationType, type NotifyUser } from '../eventstore/notification-types.js';

export interface Built<M extends EmailMessage | SmsMessage = EmailMessage | SmsMessage> {
  readonly message: M;
  readonly templateData: MailTemplateData;
  /** The template args (Code, DisplayName, …) as rendered. */
  readonly args: TemplateArgs;
}

/**
 * RequiresPreviousDomain (user.domain.claimed): ZITADEL fills args.domain from the part of
 * LastEmail after the last '@' when the request has none.
 */
export function withPreviousDomain(request: NotificationRequest, user: NotifyUser): NotificationRequest {
  if (!request.RequiresPreviousDomain || !request.args || request.args.domain) return request;
  const at = user.LastEmail.lastIndexOf('@');
  return { ...request, args: { ...request.args, domain: at >= 0 ? user.LastEmail.slice(at + 1) : '' } };
}

/** Verified address, or the last one when the request allows an unverified channel. */
export function recipientOf(request: NotificationRequest, user: NotifyUser): string {
  const email = request.notificationType === NotificationType.email;
  const address = email
    ? request.unverifiedNotificationChannel
      ? user.LastEmail
      : user.VerifiedEmail
    : request.unverifiedNotificationChannel
      ? user.LastPhone
      : user.VerifiedPhone;
  if (!address) {
    const what = `${request.unverifiedNotificationChannel ? '' : 'verified '}${email ? 'email address' : 'phone number'}`;
    throw new PermanentError('NO_ADDRESS', `user ${user.ID} has no ${what}`);
  }
  return address;
}

/** The origin ZITADEL stored with the request; it must be an absolute http(s) URL. */
export function originOf(request: NotificationRequest): string {
  const origin = request.triggeredAtOrigin;
  if (!origin) return '';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new PermanentError('BAD_ORIGIN', 'triggeredAtOrigin is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PermanentError('BAD_ORIGIN', `triggeredAtOrigin has unsupported scheme ${url.protocol}`);
  }
  return origin;
}

/** How the message looks beyond its texts: instance origin fallback, branding, mail template. */
export interface MessageLook extends TextSettings {
  /** Overrides the request's origin (the instance's primary domain fallback, worker/instance.ts). */
  readonly origin?: string;
  readonly branding?: Branding;
  readonly mailTemplate?: string;
}

export async function buildMessage(
  ids: { instanceId: string; notificationId: string },
  request: NotificationRequest,
  user: NotifyUser,
  keyring: Keyring,
  /** Custom texts, languages and branding; herald's own texts and layout without them. */
  look: MessageLook = {},
): Promise<Built> {
  const to = recipientOf(request, user);
  const { origin = originOf(request), ...rest } = look;
  const code = request.code === undefined ? '' : await keyring.decryptString(request.code);
  const args = buildArgs({ request, user, code, origin });
  const channel = request.notificationType === NotificationType.email ? 'email' : 'sms';
  const rendered = renderMessage({
    messageType: request.messageType,
    language: user.PreferredLanguage,
    channel,
    args,
    ...rest,
    ...(request.urlTemplate ? { urlTemplate: request.urlTemplate } : {}),
  });
  const base = { ...ids, messageType: request.messageType, to };
  const message: EmailMessage | SmsMessage =
    rendered.kind === 'email'
      ? { ...base, kind: 'email', subject: rendered.subject, html: rendered.html, text: rendered.text }
      : { ...base, kind: 'sms', text: rendered.text };
  return { message, templateData: rendered.templateData, args };
}
