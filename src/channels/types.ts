/** The port every delivery channel implements (house style §2). */
import type { Logger } from 'pino';

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

/**
 * What ZITADEL's HTTP providers receive besides the recipient: the unrendered template data
 * and the template args. Carried on the message so every channel has the one `send`; the
 * HTTP provider channels use it, every other channel ignores it.
 */
export interface ZitadelPayload {
  /** The notification's event type in worker mode: `notification.requested` or `notification.retry.requested`. */
  readonly eventType: string;
  readonly templateData: ZitadelTemplateData;
  /**
   * The template args under ZITADEL's names (Code, DisplayName, Expiry, …), valued as Go
   * marshals them: Expiry in nanoseconds, LoginNames an array or null. Keys are lower-camelled by the channel.
   */
  readonly args: Readonly<Record<string, JsonValue | undefined>>;
}

interface MessageBase {
  /** Notification aggregate id, for logs and idempotency keys. */
  readonly notificationId: string;
  readonly instanceId: string;
  /** ZITADEL MessageType, e.g. InitCode, VerifySMSOTP. */
  readonly messageType: string;
  /** ZITADEL's HTTP provider body pieces (worker/instance.ts deliver); absent: the rendered message is sent. */
  readonly zitadel?: ZitadelPayload;
}

export interface EmailMessage extends MessageBase {
  readonly kind: 'email';
  readonly to: string;
  /** Overrides the channel's configured sender when set. */
  readonly from?: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface SmsMessage extends MessageBase {
  readonly kind: 'sms';
  /** E.164 phone number. */
  readonly to: string;
  readonly text: string;
}

export type OutgoingMessage = EmailMessage | SmsMessage;

export interface SendContext {
  /** Aborted when the job's time is up or the process shuts down. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

export interface SendResult {
  readonly providerMessageId?: string;
  /** Written into the user/session `*.sent` event's generatorInfo (Twilio Verify). */
  readonly generatorInfo?: { readonly id?: string; readonly verificationId?: string };
}

/**
 * A channel delivers one kind of message. It maps provider errors at its edge:
 * PermanentError (cancel), RateLimitedError (retry later), anything else is retried.
 */
export interface Channel<M extends OutgoingMessage = OutgoingMessage> {
  readonly name: string;
  send(message: M, ctx: SendContext): Promise<SendResult>;
  close(): Promise<void>;
}
