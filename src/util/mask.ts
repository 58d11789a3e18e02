/**
 * Masked recipients for the delivery history, the API and log lines: enough to tell two
 * recipients apart by eye, never enough to contact them. `alice@example.com` → `a***@example.com`,
 * `+41791234519` → `+41******19`. Bounded: the input is cut before it is looked at.
 */
const MAX = 320;

export function maskRecipient(to: string): string {
  const s = to.length > MAX ? to.slice(0, MAX) : to;
  const at = s.lastIndexOf('@');
  if (at > 0) return `${s[0] ?? ''}***@${s.slice(at + 1)}`;
  if (at === 0) return `***${s}`;
  const chars = [...s].filter((c) => c !== ' ');
  if (chars.length <= 5) return '*'.repeat(chars.length);
  const head = chars[0] === '+' ? 3 : 2;
  return `${chars.slice(0, head).join('')}${'*'.repeat(chars.length - head - 2)}${chars.slice(-2).join('')}`;
}
