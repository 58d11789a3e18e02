/**
 * Email over SMTP through one pooled nodemailer transport per channel (house style §2, §10).
 *
 * Abort: nodemailer ≥10.5 takes `signal` per message (SMTPPool.supportsAbortSignal). A
 * message still queued in the pool is dropped; one being delivered has its connection
 * closed (the pool opens a new one for the next message) and sendMail rejects with EABORT.
 * So we pass the signal through and need no race of our own. As nodemailer says, an abort
 * does not prove the server did not already accept the message.
 */
import net from 'node:net';

import type { SendMailOptions } from 'nodemailer';
import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';

import { ConfigError, HeraldError, isPermanent, PermanentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EgressPolicy } from '../net/egress.js';
import { resolveChecked } from '../net/egress.js';
import { plainAddress, recipientAddress } from './address.js';
import { assertSafeAddress, classifySmtpError, safeSubject } from './smtp-errors.js';
import type { Channel, EmailMessage, SendContext, SendResult } from './types.js';

/**
 * A tenant's SMTP server as validated fields (channels/instance-channels.ts): never a URL,
 * whose query string nodemailer would read as transport options (sendmail, path, logger, …).
 */
export interface SmtpServer {
  /** An RFC 1123 host name or an IP literal (no brackets). */
  readonly host: string;
  /** 1–65535. */
  readonly port: number;
  /** Implicit TLS (ZITADEL's tls on 465). */
  readonly secure: boolean;
  /** STARTTLS required (ZITADEL's tls elsewhere). */
  readonly requireTLS: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Every address connected to must pass it; the socket connects to the checked address. */
  readonly egress: EgressPolicy;
}

/** A sender as name and plain address (a tenant's), or one RFC 5322 mailbox string (SMTP_FROM). */
export type Sender = string | { readonly name: string; readonly address: string };

export interface SmtpChannelOptions {
  /** The operator's SMTP_URL (`smtp://user:pass@host:587`, `smtps://…`); exclusive with `server`. */
  readonly url?: string;
  /** A tenant's server; exclusive with `url`. */
  readonly server?: SmtpServer;
  /** Sender used when the message has none (SMTP_FROM, or the instance's sender). */
  readonly from?: Sender;
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

interface Transport {
  sendMail(mail: SendMailOptions): Promise<{ messageId: string }>;
  close(): void;
}

type SocketCallback = (err: Error | null, socketOptions?: { connection: net.Socket }) => void;

/**
 * nodemailer's `getSocket` hook: resolve the tenant's host, check every address against the
 * egress rule and connect to the checked addresses only. nodemailer's own DNS step
 * (shared.resolveHostname) is skipped for a connection handed over this way; TLS (implicit or
 * STARTTLS) still runs over this socket with the host name as servername.
 */
function egressSocket(server: SmtpServer): (options: unknown, callback: SocketCallback) => void {
  return (_options, callback) => {
    resolveChecked(server.host, server.egress).then(
      (addresses) => {
        const socket = net.connect({
          host: server.host,
          port: server.port,
          // Only the checked addresses: nothing is looked up again.
          lookup: (_host, opts, cb) => {
            if (opts.all) cb(null, addresses);
            else cb(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
          },
        });
        const timer = setTimeout(
          () => socket.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })),
          CONNECTION_TIMEOUT_MS,
        );
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeListener('error', onError);
          callback(null, { connection: socket });
        });
        const onError = (err: Error): void => {
          clearTimeout(timer);
          callback(Object.assign(new Error('connection failed'), { code: 'ECONNECTION', cause: err }));
        };
        socket.once('error', onError);
      },
      (err: unknown) => {
        if (isPermanent(err)) callback(err);
        else callback(Object.assign(new Error('DNS lookup failed'), { code: 'EDNS' }));
      },
    );
  };
}

function makeTransport(opts: SmtpChannelOptions): Transport {
  const common = {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // Bodies are rendered strings; never let a template make nodemailer read files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  };
  const pooling =
    opts.pool === false ? {} : { pool: true as const, maxConnections: opts.maxConnections ?? 5, maxMessages: MAX_MESSAGES_PER_CONNECTION };
  if (opts.url !== undefined && opts.server !== undefined) throw new ConfigError('smtp channel takes a url or a server, not both');
  if (opts.url !== undefined) {
    // The operator's SMTP_URL: the only URL herald hands to nodemailer.
    return nodemailer.createTransport({ url: opts.url, ...common, ...pooling });
  }
  const server = opts.server;
  if (server === undefined) throw new ConfigError('smtp channel needs a url or a server');
  // An options object of fixed keys: nothing a tenant typed can add one.
  return nodemailer.createTransport({
    host: server.host,
    port: server.port,
    secure: server.secure,
    requireTLS: server.requireTLS,
    ...(server.auth ? { auth: { user: server.auth.user, pass: server.auth.pass } } : {}),
    getSocket: egressSocket(server),
    ...common,
    ...pooling,
  });
}

/** The sender's plain address for the envelope, and the header value. */
function senderOf(sender: Sender): { header: SendMailOptions['from']; envelope: string } {
  if (typeof sender !== 'string') {
    const address = plainAddress(sender.address);
    if (address === undefined) throw new PermanentError('PROVIDER_SETTINGS_INVALID', "the instance's sender address is not one plain email address");
    return { header: sender.name === '' ? address : { name: sender.name, address }, envelope: address };
  }
  const header = assertSafeAddress(sender, 'from');
  const parsed = addressparser(header, { flatten: true })[0];
  return { header, envelope: parsed?.address ?? header };
}

export function makeSmtpChannel(opts: SmtpChannelOptions): Channel<EmailMessage> {
  const transport = makeTransport(opts);
  const log = opts.logger.child({ channel: 'smtp' });
  let closed = false;

  async function send(message: EmailMessage, ctx: SendContext): Promise<SendResult> {
    const sender = message.from ?? opts.from;
    if (sender === undefined || (typeof sender === 'string' && sender.trim() === '')) {
      throw new PermanentError('NO_SENDER', 'no sender address: set SMTP_FROM or the instance SMTP sender');
    }
    const from = senderOf(sender);
    const to = recipientAddress(message.to);
    const mail: SendMailOptions = {
      from: from.header,
      to,
      // The envelope is built from the checked single addresses: headers cannot add a recipient.
      envelope: { from: from.envelope, to: [to] },
      ...(opts.replyTo ? { replyTo: assertSafeAddress(opts.replyTo, 'reply-to') } : {}),
      subject: safeSubject(message.subject),
      text: message.text,
      html: message.html,
      signal: ctx.signal,
    };
    const started = Date.now();
    try {
      const info = await transport.sendMail(mail);
      ctx.logger.debug({ channel: 'smtp', messageType: message.messageType, durationMs: Date.now() - started }, 'email accepted by SMTP server');
      return { providerMessageId: info.messageId };
    } catch (err) {
      // herald's own refusals (egress rule) pass as they are; nodemailer's errors are classified.
      if (err instanceof HeraldError) throw err;
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
