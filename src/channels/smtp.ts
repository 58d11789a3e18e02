/**
 * Email over SMTP through one pooled nodemailer transport per channel (house style §2, §10).
 *
 * Abort: nodemailer ≥10.5 takes `signal` per message (SMTPPool.supportsAbortSignal). A
 * message still queued in the pool is dropped; one being delivered has its connection
 * closed (the pool opens a new one for the next message) and sendMail rejects with EABORT.
 * So we pass the signal through and need no race of our own. As nodemailer says, an abort
 * does not prove the server did not already accept the message.
 */
import type { SendMailOptions } from 'nodemailer';
import nodemailer from 'nodemailer';

import { PermanentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { assertSafeAddress, classifySmtpError, safeSubject } from './smtp-errors.js';
import type { Channel, EmailMessage, SendContext, SendResult } from './types.js';

export interface SmtpChannelOptions {
  /** nodemailer connection URL, e.g. `smtp://user:pass@host:587` or `smtps://...` (SMTP_URL). */
  readonly url: string;
  /** Sender used when the message has none (SMTP_FROM). */
  readonly from?: string;
  /** Reply-To header of every message (an instance SMTP config's replyToAddress). */
  readonly replyTo?: string;
  readonly logger: Logger;
  /** @defaultValue true */
  readonly pool?: boolean;
  /** Open connections at most. @defaultValue 5 */
  readonly maxConnections?: number;
}

/**
 * A connection is replaced after this many messages. nodemailer's default (100) would churn
 * connections under load; servers that limit messages per session answer 421, which the
 * pool handles by reconnecting.
 */
const MAX_MESSAGES_PER_CONNECTION = 10_000;

/** Bounded waits so a dead server fails the attempt instead of hanging it until the job timeout. */
const CONNECTION_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 60_000;

interface Sender {
  sendMail(mail: SendMailOptions): Promise<{ messageId: string }>;
  close(): void;
}

function makeTransport(opts: SmtpChannelOptions): Sender {
  const common = {
    url: opts.url,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // Bodies are rendered strings; never let a template make nodemailer read files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
  if (opts.pool === false) return nodemailer.createTransport(common);
  return nodemailer.createTransport({
    ...common,
    pool: true,
    maxConnections: opts.maxConnections ?? 5,
    maxMessages: MAX_MESSAGES_PER_CONNECTION,
  });
}

export function makeSmtpChannel(opts: SmtpChannelOptions): Channel<EmailMessage> {
  const transport = makeTransport(opts);
  const log = opts.logger.child({ channel: 'smtp' });
  let closed = false;

  async function send(message: EmailMessage, ctx: SendContext): Promise<SendResult> {
    const sender = message.from ?? opts.from;
    if (sender === undefined || sender.trim() === '') {
      throw new PermanentError('NO_SENDER', 'no sender address: set SMTP_FROM or the instance SMTP sender');
    }
    const mail: SendMailOptions = {
      from: assertSafeAddress(sender, 'from'),
      to: assertSafeAddress(message.to, 'to'),
      ...(opts.replyTo ? { replyTo: assertSafeAddress(opts.replyTo, 'reply-to') } : {}),
      subject: safeSubject(message.subject),
      text: message.text,
      html: message.html,
      signal: ctx.signal,
    };
    const started = Date.now();
    try {
      const info = await transport.sendMail(mail);
      ctx.logger.debug(
        { channel: 'smtp', messageType: message.messageType, durationMs: Date.now() - started },
        'email accepted by SMTP server',
      );
      return { providerMessageId: info.messageId };
    } catch (err) {
      throw classifySmtpError(err);
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    // Idle connections close now; one mid-delivery finishes first (its job is still running).
    transport.close();
    log.debug('smtp pool closed');
  }

  return { name: 'smtp', send, close };
}
