/** The text/html part of a received message, transfer-decoded, to check what a mail client renders. */
import type { ReceivedMail } from '../../helpers/smtp-sink.js';

function decode(body: string, encoding: string): string {
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Every text/html part of the message (nested multiparts included), decoded. */
export function htmlParts(mail: ReceivedMail): string[] {
  const raw = mail.raw.replace(/\r\n/g, '\n');
  const out: string[] = [];
  const walk = (entity: string): void => {
    const split = entity.indexOf('\n\n');
    const head = (split < 0 ? entity : entity.slice(0, split)).replace(/\n[ \t]+/g, ' ');
    const body = split < 0 ? '' : entity.slice(split + 2);
    const type = /^content-type:\s*([^;\n]+)/im.exec(head)?.[1]?.trim().toLowerCase() ?? 'text/plain';
    if (type.startsWith('multipart/')) {
      const boundary = /boundary="?([^";\n]+)"?/i.exec(head)?.[1];
      if (!boundary) return;
      for (const part of body.split(`--${boundary}`).slice(1)) {
        if (part.startsWith('--')) break;
        walk(part.replace(/^\n/, ''));
      }
    } else if (type === 'text/html') {
      out.push(decode(body, /^content-transfer-encoding:\s*(\S+)/im.exec(head)?.[1] ?? ''));
    }
  };
  walk(raw);
  return out;
}
