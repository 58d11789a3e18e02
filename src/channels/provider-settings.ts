/**
 * An instance's own providers as the channels take them: the instance settings read model
 * (src/instance) reduces and decrypts them from ZITADEL's events; channels/instance-channels.ts
 * opens a channel per provider. Here so that channels need nothing from src/instance.
 */
import type { PermanentError } from '../errors.js';

export interface SmtpProvider {
  readonly kind: 'smtp';
  readonly id: string;
  readonly description: string;
  /** Host without port ("" when the stored "host:port" is unusable; see `problem`). */
  readonly host: string;
  readonly port: number;
  /** ZITADEL's `tls` flag: implicit TLS on 465, STARTTLS required elsewhere. */
  readonly tls: boolean;
  readonly user: string;
  /** Decrypted with smtpKey; "" when `problem` is set. Never log this object whole. */
  readonly password: string;
  readonly senderAddress: string;
  readonly senderName: string;
  readonly replyToAddress: string;
  /** Why this provider cannot send (secret not decryptable, no password, bad host): cancel. */
  readonly problem?: PermanentError;
}

export interface HttpEmailProvider {
  readonly kind: 'http';
  readonly id: string;
  readonly description: string;
  readonly endpoint: string;
}

export type EmailProvider = SmtpProvider | HttpEmailProvider;

export interface TwilioProvider {
  readonly kind: 'twilio';
  readonly id: string;
  readonly description: string;
  readonly sid: string;
  /** Decrypted with smsKey; "" when `problem` is set. Never log this object whole. */
  readonly token: string;
  readonly senderNumber: string;
  /** Non-empty: send through Twilio Verify instead of plain SMS. */
  readonly verifyServiceSid: string;
  readonly problem?: PermanentError;
}

export interface HttpSmsProvider {
  readonly kind: 'http';
  readonly id: string;
  readonly description: string;
  readonly endpoint: string;
}

export type SmsProvider = TwilioProvider | HttpSmsProvider;
