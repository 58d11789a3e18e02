/**
 * Contextual autoescaping in the manner of Go's html/template, for ZITADEL's custom mail
 * templates. The template's own text is fed through `text()` as it is written; each
 * printed value goes through `value()`, which escapes it for where it lands: HTML text,
 * a quoted or unquoted attribute, a URL attribute (href, src, background, …), a style
 * attribute or <style> element (CSS value, CSS string, url(…)), or <title>. Values in
 * HTML comments are dropped and comments are removed from the output, as html/template
 * does. Places herald does not render — <script>, on* handlers, srcset, tag and attribute
 * names, CSS comments — and a template that ends inside a tag throw, so the notification
 * is canceled instead of sending something unsafe.
 *
 * Unlike html/template, the context is tracked along the executed path only (not checked
 * statically across every branch); values are escaped for the context they actually land
 * in, which is what makes the output safe.
 *
 * @internal
 */
import { TemplateSyntaxError } from './go-template-parse.js';
import { cssEscaper, cssValueFilter, htmlEscaper, htmlNospaceEscaper, urlEscaper, urlFilter, urlNormalizer } from './html-escape.js';

type AttrType = 'url' | 'css' | 'js' | 'srcset' | 'plain';

/** html/template's attrTypeMap, the entries that are not plain text. */
const URL_ATTRS = 'action archive background cite classid codebase data formaction href icon longdesc manifest poster profile src usemap xmlns';
const ATTR_TYPES: Readonly<Record<string, AttrType>> = {
  ...Object.fromEntries(URL_ATTRS.split(' ').map((name) => [name, 'url' as const])),
  srcset: 'srcset',
  style: 'css',
};

/** html/template's attrType. */
export function attrType(attrName: string): AttrType {
  let name = attrName.toLowerCase();
  if (name.startsWith('data-')) name = name.slice(5);
  else if (name.includes(':')) {
    if (name.startsWith('xmlns:')) return 'url';
    name = name.slice(name.indexOf(':') + 1);
  }
  const known = ATTR_TYPES[name];
  if (known) return known;
  if (name.startsWith('on')) return 'js';
  if (name.includes('src') || name.includes('uri') || name.includes('url')) return 'url';
  return 'plain';
}

/** Elements whose content is not HTML: CSS, script, or escapable text (RCDATA). */
const RAW_ELEMENTS: ReadonlySet<string> = new Set(['style', 'script', 'title', 'textarea']);

type TagPart = 'name' | 'space' | 'attr' | 'afterAttr' | 'beforeValue' | 'value';

type State =
  | { readonly k: 'text' }
  | { readonly k: 'comment' }
  | { k: 'tag'; tag: string; closing: boolean; part: TagPart; attr: string; quote: string; value: AttrValue }
  | { readonly k: 'raw'; readonly tag: string; readonly css: CssScanner };

/** An attribute value so far, as the escapers need it (URL and CSS context). */
interface AttrValue {
  readonly url: UrlSoFar;
  readonly css: CssScanner;
}

function attrValueOf(first = ''): AttrValue {
  const v = { url: new UrlSoFar(), css: new CssScanner() };
  feedValue(v, first);
  return v;
}

function feedValue(v: AttrValue, s: string): void {
  for (const c of s) v.url.feed(c);
  v.css.feed(s);
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
const isLetter = (c: string | undefined): boolean => c !== undefined && /[A-Za-z]/.test(c);

type CssState = 'value' | 'dqStr' | 'sqStr' | 'url' | 'dqUrl' | 'sqUrl' | 'comment';

/**
 * What a value printed into a URL needs to know of the URL so far: whether anything but
 * whitespace came before it, and whether a query or fragment started.
 */
class UrlSoFar {
  blank = true;
  query = false;

  feed(c: string): void {
    if (this.blank && c.trim() !== '') this.blank = false;
    if (c === '?' || c === '#') this.query = true;
  }
}

/**
 * Where the CSS written so far ends: inside a value, a string, a url(…) or a comment, with the
 * string or URL so far. Fed one character at a time as the template writes, so each printed
 * value costs O(1) instead of a rescan of everything before it (which was quadratic).
 */
class CssScanner {
  private current: CssState = 'value';
  /** The string or URL so far (reset where one starts). */
  sofar = new UrlSoFar();
  /** The last characters seen in the value state, lower-cased, to spot `url(`. */
  private recent = '';
  /** After `url(`: skipping spaces before the URL or its quote. */
  private urlOpen = false;
  /** Previous character: `/` in a value, `*` in a comment, `\` in a string. */
  private pending = '';

  /** Right after `url(` (and spaces) a value starts an unquoted URL. */
  get state(): CssState {
    return this.urlOpen ? 'url' : this.current;
  }

  feed(s: string): void {
    for (const c of s) this.char(c);
  }

  private enter(state: CssState): void {
    this.current = state;
    this.sofar = new UrlSoFar();
    this.recent = '';
    this.pending = '';
  }

  private char(c: string): void {
    switch (this.current) {
      case 'value':
        if (this.urlOpen) {
          if (isSpace(c)) return;
          this.urlOpen = false;
          if (c === '"' || c === "'") {
            this.enter(c === '"' ? 'dqUrl' : 'sqUrl');
            return;
          }
          this.enter('url');
          this.char(c);
          return;
        }
        if (this.pending === '/' && c === '*') {
          this.enter('comment');
          return;
        }
        this.pending = c === '/' ? '/' : '';
        if (c === '(' && this.recent === 'url') {
          this.urlOpen = true;
          this.recent = '';
        } else if (c === '"' || c === "'") {
          this.enter(c === '"' ? 'dqStr' : 'sqStr');
        } else {
          this.recent = (this.recent + c.toLowerCase()).slice(-3);
        }
        return;
      case 'comment':
        if (this.pending === '*' && c === '/') this.enter('value');
        else this.pending = c === '*' ? '*' : '';
        return;
      case 'dqStr':
      case 'sqStr':
      case 'dqUrl':
      case 'sqUrl':
        this.sofar.feed(c);
        if (this.pending === '\\') this.pending = '';
        else if (c === '\\') this.pending = '\\';
        else if (c === (this.current === 'dqStr' || this.current === 'dqUrl' ? '"' : "'")) this.enter('value');
        return;
      case 'url':
        if (c === ')') this.enter('value');
        else this.sofar.feed(c);
        return;
    }
  }
}

/** A URL value: filtered at the start, normalized in the path, fully escaped in query/fragment. */
function escapeUrlPart(value: string, sofar: UrlSoFar, inner: (s: string) => string = urlNormalizer): string {
  if (sofar.query) return urlEscaper(value);
  return inner(sofar.blank ? urlFilter(value) : value);
}

function escapeCss(value: string, css: CssScanner): string {
  const { state, sofar } = css;
  switch (state) {
    case 'value':
      return cssValueFilter(value);
    case 'dqStr':
    case 'sqStr':
      return escapeUrlPart(value, sofar, cssEscaper);
    case 'url':
    case 'dqUrl':
    case 'sqUrl':
      return escapeUrlPart(value, sofar);
    case 'comment':
      throw new TemplateSyntaxError('a value inside a CSS comment is not supported');
  }
}

/** Tag and attribute names come from the template, but a reason stays short. */
function cut(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

/** Stands in for a printed value in the context buffers: escaped values never change the context. */
const PRINTED = 'x';

export interface HtmlContext {
  /** Passes the template's own text through (without HTML comments) and tracks where it ends. */
  text(s: string): string;
  /** Escapes a printed value for the current context. */
  value(s: string): string;
  /** Throws unless the output ended outside any tag, comment or special element. */
  finish(): void;
}

export function makeHtmlContext(): HtmlContext {
  let st: State = { k: 'text' };

  function endTag(tag: Extract<State, { k: 'tag' }>): void {
    st = !tag.closing && RAW_ELEMENTS.has(tag.tag) ? { k: 'raw', tag: tag.tag, css: new CssScanner() } : { k: 'text' };
  }

  /** Consumes s[i] in a tag; returns how many characters were used (0: look at it again in the new part). */
  function inTag(t: Extract<State, { k: 'tag' }>, s: string, i: number): number {
    const c = s[i] ?? '';
    const moveTo = (part: TagPart): number => {
      t.part = part;
      return 0;
    };
    switch (t.part) {
      case 'name':
        if (!/[A-Za-z0-9:-]/.test(c)) return moveTo('space');
        t.tag += c.toLowerCase();
        return 1;
      case 'space':
        if (c === '>') endTag(t);
        else if (!isSpace(c) && c !== '/') Object.assign(t, { part: 'attr', attr: c.toLowerCase() });
        return 1;
      case 'attr':
        if (isSpace(c) || c === '=' || c === '>' || c === '/') return moveTo('afterAttr');
        t.attr += c.toLowerCase();
        return 1;
      case 'afterAttr':
        if (c === '=') t.part = 'beforeValue';
        else if (!isSpace(c)) return moveTo('space');
        return 1;
      case 'beforeValue':
        if (c === '>') endTag(t);
        else if (c === '"' || c === "'") Object.assign(t, { part: 'value', quote: c, value: attrValueOf() });
        else if (!isSpace(c)) Object.assign(t, { part: 'value', quote: '', value: attrValueOf(c) });
        return 1;
      case 'value':
        if (t.quote === '' && (isSpace(c) || c === '>')) return moveTo('space');
        if (t.quote !== '' && c === t.quote) t.part = 'space';
        else feedValue(t.value, c);
        return 1;
    }
  }

  function text(s: string): string {
    let out = '';
    let i = 0;
    while (i < s.length) {
      const state = st;
      if (state.k === 'comment') {
        const end = s.indexOf('-->', i);
        if (end < 0) return out;
        st = { k: 'text' };
        i = end + 3;
      } else if (state.k === 'raw') {
        const close = new RegExp(`</${state.tag}(?=[\\s/>]|$)`, 'i').exec(s.slice(i));
        const j = close ? i + close.index : s.length;
        if (state.tag === 'style') state.css.feed(s.slice(i, j));
        out += s.slice(i, j);
        i = j;
        if (close) st = { k: 'text' };
      } else if (state.k === 'text') {
        const lt = s.indexOf('<', i);
        if (lt < 0) return out + s.slice(i);
        out += s.slice(i, lt);
        i = lt;
        if (s.startsWith('<!--', i)) {
          st = { k: 'comment' };
          i += 4;
        } else if (isLetter(s[i + 1]) || (s[i + 1] === '/' && isLetter(s[i + 2]))) {
          const closing = s[i + 1] === '/';
          st = { k: 'tag', tag: '', closing, part: 'name', attr: '', quote: '', value: attrValueOf() };
          out += closing ? '</' : '<';
          i += closing ? 2 : 1;
        } else {
          out += '<';
          i++;
        }
      } else {
        const used = inTag(state, s, i);
        out += s.slice(i, i + used);
        i += used;
      }
    }
    return out;
  }

  function attrValue(t: Extract<State, { k: 'tag' }>, v: string): string {
    let escaped: string;
    switch (attrType(t.attr)) {
      case 'url':
        escaped = escapeUrlPart(v, t.value.url);
        break;
      case 'css':
        escaped = escapeCss(v, t.value.css);
        break;
      case 'plain':
        escaped = v;
        break;
      default:
        throw new TemplateSyntaxError(`a value in the ${cut(t.attr)} attribute is not supported`);
    }
    feedValue(t.value, PRINTED);
    return t.quote === '' ? htmlNospaceEscaper(escaped) : htmlEscaper(escaped);
  }

  function value(v: string): string {
    const state = st;
    switch (state.k) {
      case 'text':
        return htmlEscaper(v);
      case 'comment':
        return '';
      case 'raw':
        if (state.tag === 'style') {
          const escaped = escapeCss(v, state.css);
          state.css.feed(PRINTED);
          return escaped;
        }
        if (state.tag === 'script') throw new TemplateSyntaxError('a value inside <script> is not supported');
        return htmlEscaper(v);
      case 'tag':
        if (state.part === 'beforeValue') Object.assign(state, { part: 'value', quote: '', value: attrValueOf() });
        if (state.part !== 'value') {
          throw new TemplateSyntaxError(`a value inside the <${cut(state.tag)}> tag outside an attribute value is not supported`);
        }
        return attrValue(state, v);
    }
  }

  return {
    text,
    value,
    finish() {
      if (st.k !== 'text') throw new TemplateSyntaxError(`the template ends inside ${st.k === 'comment' ? 'a comment' : `<${cut(st.tag)}>`}`);
    },
  };
}
