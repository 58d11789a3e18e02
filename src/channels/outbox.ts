/**
 * The zero-config channel: every message becomes one file in a directory (HERALD_OUTBOX_DIR).
 * Email is a real RFC 822 `.eml` composed by nodemailer, SMS a `.json`.
 *
 * The files hold the message as it would have been sent, codes included: that is the point
 * of an outbox. Files are created 0600 in a 0700 directory (when herald creates it).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import MailComposer from 'nodemailer/lib/mail-composer';

import type { Logger } from '../logger.js';
import { assertSafeAddress, safeHeaderValue, safeSubject } from './smtp-errors.js';
import type { Channel, EmailMessage, OutgoingMessage, SendContext, SendResult, SmsMessage } from './types.js';

export interface OutboxChannelOptions {
  /** Directory for the files; created when missing. */
  readonly dir: string;
  readonly logger: Logger;
  /** Sender for emails that have none. @defaultValue 'herald@localhost' */
  readonly from?: string;
}

const DEFAULT_FROM = 'herald@localhost';
const MAX_ID_LENGTH = 64;

/**
 * Ids come from the eventstore and are not ours to trust: keep only characters that cannot
 * form a path (`../../x` becomes `______x`), and bound the length.
 */
export function safeFileComponent(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_ID_LENGTH);
  return cleaned === '' ? '_' : cleaned;
}

/**
 * `<iso timestamp>-<instanceId>-<notificationId>.<ext>`. Colons in the timestamp become `-`
 * so names stay valid on every filesystem and sort by time.
 */
export function outboxFileName(message: OutgoingMessage, at: Date, ext: 'eml' | 'json'): string {
  const stamp = at.toISOString().replace(/:/g, '-');
  return `${stamp}-${safeFileComponent(message.instanceId)}-${safeFileComponent(message.notificationId)}.${ext}`;
}

async function composeEml(message: EmailMessage, defaultFrom: string, at: Date): Promise<Buffer> {
  const composer = new MailComposer({
    from: assertSafeAddress(message.from ?? defaultFrom, 'from'),
    to: assertSafeAddress(message.to, 'to'),
    subject: safeSubject(message.subject),
    text: message.text,
    html: message.html,
    date: at,
    headers: {
      'X-Herald-Instance-Id': safeHeaderValue(message.instanceId),
      'X-Herald-Notification-Id': safeHeaderValue(message.notificationId),
      'X-Herald-Message-Type': safeHeaderValue(message.messageType),
    },
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

function composeSmsJson(message: SmsMessage, at: Date): string {
  const record = {
    to: message.to,
    text: message.text,
    messageType: message.messageType,
    notificationId: message.notificationId,
    instanceId: message.instanceId,
    createdAt: at.toISOString(),
  };
  return `${JSON.stringify(record, null, 2)}\n`;
}

/**
 * Readers (a demo, a test, a mail viewer) never see a half-written file: write a hidden temp
 * file in the same directory, then rename it into place, which is atomic on one filesystem.
 */
async function writeAtomically(dir: string, name: string, data: string | Buffer, signal: AbortSignal): Promise<void> {
  const temp = path.join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    await writeFile(temp, data, { flag: 'wx', mode: 0o600, signal });
    signal.throwIfAborted();
    await rename(temp, path.join(dir, name));
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export function makeOutboxChannel(opts: OutboxChannelOptions): Channel<OutgoingMessage> {
  const dir = path.resolve(opts.dir);
  const defaultFrom = opts.from ?? DEFAULT_FROM;

  async function send(message: OutgoingMessage, ctx: SendContext): Promise<SendResult> {
    ctx.signal.throwIfAborted();
    const at = new Date();
    const ext = message.kind === 'email' ? 'eml' : 'json';
    const name = outboxFileName(message, at, ext);
    const data = message.kind === 'email' ? await composeEml(message, defaultFrom, at) : composeSmsJson(message, at);
    // Every send, not once: the directory may be removed while herald runs (a demo reset).
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeAtomically(dir, name, data, ctx.signal);
    ctx.logger.debug({ channel: 'outbox', kind: message.kind, file: name }, 'message written to outbox');
    return { providerMessageId: name };
  }

  async function close(): Promise<void> {
    opts.logger.debug({ channel: 'outbox' }, 'outbox closed');
  }

  return { name: 'outbox', send, close };
}
