/**
 * A real SMTP server on 127.0.0.1 (ephemeral port) that keeps what it receives, for tests of
 * anything that sends email. No auth, no TLS. Waits are event-driven, never sleeps.
 */
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope MAIL FROM and RCPT TO as the client sent them. */
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** Header values (first occurrence, unfolded, not MIME-decoded), keys lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every header line, unfolded, in order: lets a test count e.g. `Subject:` lines. */
  readonly headerLines: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  /** Everything after the header block, still MIME-encoded. */
  readonly body: string;
  /** The message exactly as received (CRLF line endings). */
  readonly raw: string;
}

export interface SmtpReply {
  readonly code: number;
  readonly message: string;
}

export interface SmtpSinkOptions {
  /** Called per DATA attempt (n counts from 1); a reply rejects that attempt. */
  readonly failWith?: (n: number, mail: ReceivedMail) => SmtpReply | undefined;
  /** Called as each DATA attempt starts (n counts from 1), e.g. to abort a send in flight. */
  readonly onAttempt?: (n: number) => void;
  /** Never answer DATA attempt n: the client hangs until it gives up or aborts (abort tests). */
  readonly holdData?: (n: number) => boolean;
  /**
   * Wait this long (ms) before answering DATA attempt n (slow-server and shutdown tests). A
   * message counts as accepted only if the client is still connected when the 250 is sent;
   * one whose client went away meanwhile counts in `abandoned` instead.
   */
  readonly acceptDelayMs?: (n: number) => number;
}

export interface SmtpSink {
  readonly url: string;
  readonly port: number;
  /** Accepted messages, in order. */
  readonly messages: ReceivedMail[];
  /** DATA attempts so far, accepted or not. */
  readonly attempts: number;
  /** TCP connections the server accepted so far (pool reuse checks). */
  readonly connections: number;
  /** Delayed messages (acceptDelayMs) whose client disconnected before the reply: not accepted. */
  readonly abandoned: number;
  /** Resolves once `count` messages were accepted; rejects after timeoutMs (default 5000). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Splits a raw message into unfolded header lines and the body. */
export function parseMail(raw: string, envelope: ReceivedMail['envelope']): ReceivedMail {
  const normalized = raw.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  const head = split === -1 ? normalized : normalized.slice(0, split);
  const body = split === -1 ? '' : normalized.slice(split + 2);
  const headerLines = head
    .replace(/\n[ \t]+/g, ' ')
    .split('\n')
    .filter((line) => line !== '');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!(key in headers)) headers[key] = line.slice(colon + 1).trim();
  }
  return {
    envelope,
    headers,
    headerLines,
    from: headers['from'] ?? '',
    to: headers['to'] ?? '',
    subject: headers['subject'] ?? '',
    body,
    raw,
  };
}

function replyError(reply: SmtpReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const events = new EventEmitter();
  const messages: ReceivedMail[] = [];
  let attempts = 0;
  let connections = 0;
  let abandoned = 0;
  const closedSessions = new Set<string>();
  const delays = new Set<NodeJS.Timeout>();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    // Held connections are cut quickly at close instead of after smtp-server's 30 s.
    closeTimeout: 200,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onClose(session) {
      closedSessions.add(session.id);
    },
    onData(stream, session, callback) {
      attempts += 1;
      const n = attempts;
      opts.onAttempt?.(n);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (opts.holdData?.(n)) return;
        const mail = parseMail(Buffer.concat(chunks).toString('utf8'), {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        });
        const reply = opts.failWith?.(n, mail);
        if (reply) {
          callback(replyError(reply));
          return;
        }
        const accept = (): void => {
          if (closedSessions.has(session.id)) {
            abandoned += 1;
            return;
          }
          messages.push(mail);
          events.emit('message');
          callback();
        };
        const delayMs = opts.acceptDelayMs?.(n) ?? 0;
        if (delayMs <= 0) {
          accept();
          return;
        }
        const timer = setTimeout(() => {
          delays.delete(timer);
          accept();
        }, delayMs);
        delays.add(timer);
      });
    },
  });
  server.on('error', () => {
    // Client resets (abort tests) surface here; the tests assert on the client side.
  });

  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;

  function waitFor(count: number, timeoutMs = 5000): Promise<ReceivedMail[]> {
    if (messages.length >= count) return Promise.resolve(messages.slice(0, count));
    return new Promise((resolve, reject) => {
      const onMessage = (): void => {
        if (messages.length < count) return;
        clearTimeout(timer);
        events.off('message', onMessage);
        resolve(messages.slice(0, count));
      };
      const timer = setTimeout(() => {
        events.off('message', onMessage);
        reject(new Error(`smtp sink: ${messages.length}/${count} messages after ${timeoutMs} ms`));
      }, timeoutMs);
      events.on('message', onMessage);
    });
  }

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    get attempts() {
      return attempts;
    },
    get connections() {
      return connections;
    },
    get abandoned() {
      return abandoned;
    },
    waitFor,
    close: () => {
      for (const timer of delays) clearTimeout(timer);
      delays.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
