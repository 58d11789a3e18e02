/** Decodes a received message's quoted-printable / base64 parts well enough to search them. */
import type { ReceivedMail } from './smtp-sink.js';

export function decodedBody(mail: ReceivedMail): string {
  const qp = mail.body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const b64 = [...mail.body.matchAll(/\n\n([A-Za-z0-9+/=\n]{16,})\n/g)]
    .map((m) => Buffer.from((m[1] ?? '').replace(/\n/g, ''), 'base64').toString('utf8'))
    .join('\n');
  return Buffer.from(qp, 'latin1').toString('utf8') + '\n' + b64;
}
