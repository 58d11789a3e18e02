/**
 * What an instance's own settings (src/instance, reduced from ZITADEL's events) change in
 * one notification attempt: which channel sends it, the origin, branding, mail template and
 * languages it is rendered with, whether a policy forbids it, and ZITADEL's JSON body for
 * the HTTP providers.
 *
 * Provider precedence (as ZITADEL, with herald's deployment default in between):
 * 1. the instance's active provider from the eventstore (SMTP / HTTP email, Twilio / HTTP SMS);
 * 2. else herald's own channel (HERALD_EMAIL_PROVIDER / HERALD_SMS_PROVIDER);
 * 3. else (`none`) the notification is canceled, like ZITADEL's
 *    Errors.Notification.Channels.NotPresent.
 * An active provider that cannot send (secret not decryptable, SMTP config without password,
 * bad host) cancels: it never falls back to the default, which could leave under another name.
 */
import { zitadelJsonArgs } from '../channels/http-provider.js';
import type { InstanceChannels } from '../channels/instance-channels.js';
import type { Channel, EmailMessage, SendContext, SendResult, SmsMessage, ZitadelTemplateData } from '../channels/types.js';
import type { Branding, MailTemplateData } from '../content/types.js';
import { PermanentError } from '../errors.js';
import type { NotificationRequest } from '../eventstore/notification-types.js';
import { brandingFor } from '../instance/branding.js';
import type { InstanceSettings, InstanceSettingsSource } from '../instance/types.js';
import { type Built, originOf } from './message.js';

/** The per-instance parts of a worker: settings from the eventstore and the channels they open. */
export interface InstanceServices {
  readonly settings: InstanceSettingsSource;
  readonly channels: InstanceChannels;
}

export type ChannelKind = 'email' | 'sms';

export interface DefaultChannelSet {
  readonly email: Channel<EmailMessage> | undefined;
  readonly sms: Channel<SmsMessage> | undefined;
}

const PROVIDER_VARIABLE: Readonly<Record<ChannelKind, string>> = { email: 'HERALD_EMAIL_PROVIDER', sms: 'HERALD_SMS_PROVIDER' };

/**
 * The channel for this notification (precedence above). Throws the provider's
 * PermanentError, or NO_PROVIDER when neither the instance nor the deployment has one.
 */
export function pickChannel(
  kind: ChannelKind,
  instanceId: string,
  settings: InstanceSettings | undefined,
  services: InstanceServices | undefined,
  defaults: DefaultChannelSet,
): Channel<EmailMessage | SmsMessage> {
  if (services && settings) {
    if (kind === 'email' && settings.email) return services.channels.email(instanceId, settings.email) as Channel<EmailMessage | SmsMessage>;
    if (kind === 'sms' && settings.sms) return services.channels.sms(instanceId, settings.sms) as Channel<EmailMessage | SmsMessage>;
  }
  const fallback = defaults[kind];
  if (fallback) return fallback as Channel<EmailMessage | SmsMessage>;
  throw new PermanentError(
    'NO_PROVIDER',
    `no active ${kind === 'email' ? 'email' : 'SMS'} provider for this instance and no default (${PROVIDER_VARIABLE[kind]}=none) ` +
      '(Errors.Notification.Channels.NotPresent)',
  );
}

/**
 * The request's triggeredAtOrigin, else `https://<primary instance domain>` (ZITADEL's
 * origin fallback; herald assumes TLS there, as any public ZITADEL has), else "".
 */
export function originFor(request: NotificationRequest, settings: InstanceSettings | undefined): string {
  const stored = originOf(request);
  if (stored !== '' || !settings?.primaryDomain) return stored;
  return `https://${settings.primaryDomain}`;
}

/**
 * Why the instance's policies forbid this notification, or undefined. ZITADEL does not even
 * request a PasswordChange mail while the notification policy's passwordChange is off;
 * a request written before the switch is canceled with that reason.
 */
export function policyRefusal(request: NotificationRequest, settings: InstanceSettings | undefined): string | undefined {
  if (settings && request.messageType === 'PasswordChange' && !settings.passwordChangeNotify) {
    return 'password change notifications are turned off by the notification policy';
  }
  return undefined;
}

export interface InstanceLook {
  readonly origin: string;
  readonly branding: Branding;
  readonly mailTemplate?: string;
  readonly allowedLanguages?: readonly string[];
  readonly defaultLanguage?: string;
}

/** Origin, branding, mail template and languages for rendering; undefined without settings. */
export function lookFor(request: NotificationRequest, settings: InstanceSettings | undefined): InstanceLook | undefined {
  if (!settings) return undefined;
  const origin = originFor(request, settings);
  return {
    origin,
    branding: brandingFor(settings.branding, origin),
    ...(settings.mailTemplate === undefined ? {} : { mailTemplate: settings.mailTemplate }),
    allowedLanguages: settings.allowedLanguages,
    ...(settings.defaultLanguage === undefined ? {} : { defaultLanguage: settings.defaultLanguage }),
  };
}

/** templates.TemplateData as the HTTP providers receive it (lower-camel JSON names). */
export function zitadelTemplateData(d: MailTemplateData): ZitadelTemplateData {
  return {
    title: d.Title,
    preHeader: d.PreHeader,
    subject: d.Subject,
    greeting: d.Greeting,
    text: d.Text,
    url: d.URL,
    buttonText: d.ButtonText,
    primaryColor: d.PrimaryColor,
    backgroundColor: d.BackgroundColor,
    fontColor: d.FontColor,
    logoUrl: d.LogoURL,
    fontUrl: d.FontURL,
    fontFaceFamily: d.FontFaceFamily,
    fontFamily: d.FontFamily,
    includeFooter: d.IncludeFooter,
    footerText: d.FooterText,
  };
}

/**
 * Sends through the channel. The message carries ZITADEL's body pieces (templateData, args
 * and the notification event being answered) for the HTTP providers; every channel has the
 * one `send` and uses what it needs.
 */
export function deliver(
  channel: Channel<EmailMessage | SmsMessage>,
  built: Built,
  request: NotificationRequest,
  eventType: string,
  ctx: SendContext,
): Promise<SendResult> {
  const zitadel = {
    eventType,
    templateData: zitadelTemplateData(built.templateData),
    args: zitadelJsonArgs(built.args, request.args?.expiry),
  };
  return channel.send({ ...built.message, zitadel }, ctx);
}
