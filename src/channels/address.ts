/**
 * Email addresses from attacker-controlled places (a user's address, an instance's sender or
 * Reply-To) reduced to one plain `local@domain`, so nothing but that one mailbox can be
 * reached: no display-name form (`"x" <other@evil>`), no list (`a@b, c@d`), no group, no
 * comment, no line separators (CR, LF, U+2028, U+2029) or other control characters. Quoted
 * local parts are refused too: legal in RFC 5321, unseen in practice, and the place where
 * parsers disagree. The one regex is a pair of character classes: linear in the input.
 */
import { PermanentError } from '../errors.js';

// eslint-disable-next-line no-control-regex -- the control characters are exactly what is refused
const PLAIN_ADDRESS = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f-\u009f]{1,64}@[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f-\u009f]{1,253}$/u;

/** The address if it is exactly one plain `local@domain`, else undefined. */
export function plainAddress(value: string): string | undefined {
  if (value.length > 320 || !PLAIN_ADDRESS.test(value)) return undefined;
  const domain = value.slice(value.indexOf('@') + 1);
  if (domain.startsWith('.') || domain.endsWith('.') || domain.includes('..')) return undefined;
  return value;
}

/** The recipient as one plain address; anything else cancels the notification (it could reach someone else). */
export function recipientAddress(value: string): string {
  const address = plainAddress(value);
  if (address === undefined) {
    throw new PermanentError('BAD_ADDRESS', 'the recipient is not one plain email address (display names, lists and control characters are refused)');
  }
  return address;
}

/** A display name without control or line-separator characters (nodemailer encodes the rest). */
export function safeDisplayName(name: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
}
