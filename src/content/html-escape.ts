/**
 * Go html/template's escapers, byte for byte where it matters (html/template/{html,url,css}.go):
 * which characters each one rewrites, and how. Used by html-context.ts, which decides which
 * escaper a printed value needs from where it lands in the page.
 *
 * @internal
 */

/** htmlEscaper / attrEscaper / rcdataEscaper (quoted attribute values, text, <title>). */
const HTML: Readonly<Record<string, string>> = {
  '\0': '\uFFFD',
  '"': '&#34;',
  '&': '&amp;',
  "'": '&#39;',
  '+': '&#43;',
  '<': '&lt;',
  '>': '&gt;',
};

/** htmlNospaceEscaper (unquoted attribute values): also whitespace, `=` and backtick. */
const HTML_NOSPACE: Readonly<Record<string, string>> = {
  ...HTML,
  '\0': '&#xfffd;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\v': '&#11;',
  '\f': '&#12;',
  '\r': '&#13;',
  ' ': '&#32;',
  '=': '&#61;',
  '`': '&#96;',
};

export function htmlEscaper(s: string): string {
  return s.replace(/[\0"&'+<>]/g, (c) => HTML[c] ?? c);
}

export function htmlNospaceEscaper(s: string): string {
  return s.replace(/[\0\t\n\v\f\r "&'+<=>`]/g, (c) => HTML_NOSPACE[c] ?? c);
}

/** What html/template prints for a value it refuses in a context. */
export const FILTER_FAILSAFE = 'ZgotmplZ';

/** urlFilter: only http, https, mailto or scheme-less URLs; anything else becomes "#ZgotmplZ". */
export function urlFilter(s: string): string {
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const scheme = s.slice(0, colon);
    if (!scheme.includes('/') && !/^(https?|mailto)$/i.test(scheme)) return `#${FILTER_FAILSAFE}`;
  }
  return s;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const RESERVED = /[!#$&*+,/:;=?@[\]]/;

/**
 * urlProcessor: percent-encodes every UTF-8 byte that is not unreserved. When normalizing,
 * reserved characters and valid %xx escapes are kept. Quotes and parens are always encoded,
 * so the result is safe in quoted attributes and in an unquoted CSS url(…).
 */
function urlProcess(s: string, normalize: boolean): string {
  let out = '';
  const bytes = Buffer.from(s, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    const c = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(c)) out += c;
    else if (normalize && b < 0x80 && RESERVED.test(c)) out += c;
    else if (normalize && c === '%' && /^[0-9a-fA-F]{2}$/.test(String.fromCharCode(bytes[i + 1] ?? 0, bytes[i + 2] ?? 0))) out += c;
    else out += `%${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** urlNormalizer: for the part of a URL before its query. */
export const urlNormalizer = (s: string): string => urlProcess(s, true);
/** urlEscaper: for a value inside a query or fragment. */
export const urlEscaper = (s: string): string => urlProcess(s, false);

const CSS: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\t': '\\9',
  '\n': '\\a',
  '\f': '\\c',
  '\r': '\\d',
  '"': '\\22',
  '&': '\\26',
  "'": '\\27',
  '(': '\\28',
  ')': '\\29',
  '+': '\\2b',
  '/': '\\2f',
  ':': '\\3a',
  ';': '\\3b',
  '<': '\\3c',
  '>': '\\3e',
  '\\': '\\\\',
  '{': '\\7b',
  '}': '\\7d',
};

/** cssEscaper: for a value inside a CSS string; a hex escape is ended by a space when needed. */
export function cssEscaper(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    const repl = CSS[c];
    if (repl === undefined) {
      out += c;
      continue;
    }
    out += repl;
    const next = s[i + 1];
    if (repl !== '\\\\' && (next === undefined || /[0-9a-fA-F\t\n\f\r ]/.test(next))) out += ' ';
  }
  return out;
}

/** decodeCSS: resolves `\hex ` and `\c` escapes, so the filter sees what CSS would. */
function decodeCss(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{1,6})[ \t\n\f\r]?|\\(.)/gs, (_m, hex: string | undefined, ch: string | undefined) =>
    hex === undefined ? (ch ?? '') : String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff)),
  );
}

/**
 * cssValueFilter: a value outside CSS strings may be a colour, a number, a keyword or a
 * font list, never something that can end the declaration, open a block or a comment, or
 * call `expression()` / `-moz-binding`.
 */
export function cssValueFilter(s: string): string {
  const b = decodeCss(s);
  let id = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i] ?? '';
    if ('\0"\'()/;@[\\]`{}<>'.includes(c)) return FILTER_FAILSAFE;
    if (c === '-' && i !== 0 && b[i - 1] === '-') return FILTER_FAILSAFE;
    if (/[A-Za-z0-9_-]/.test(c)) id += c;
  }
  const lower = id.toLowerCase();
  if (lower.includes('expression') || lower.includes('mozbinding')) return FILTER_FAILSAFE;
  return b;
}

/** html.UnescapeString for the entities a text can realistically hold. */
export function unescapeHtml(s: string): string {
  const named: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);/g, (m, e: string) => {
    if (e.startsWith('#')) {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
    }
    return named[e] ?? m;
  });
}
