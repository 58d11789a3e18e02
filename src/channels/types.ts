/** The port every delivery channel implements (house style §2). */
import type { Logger } from 'pino';

interface MessageBase {
  /** Notification aggregate id, for logs and idempotency keys. */
  readonly notificationId: string;
  readonly instanceId: string;
  /** ZITADEL MessageType, e.g. InitCode, VerifySMSOTP. */
  readonly messageType: string;
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
