/**
 * Parser for the subset of Go text/template that ZITADEL URL templates and
 * message texts use. It only builds a tree; nothing here evaluates anything.
 *
 * @internal
 */

/** Thrown for any template the subset cannot express; the caller maps it to PermanentError. */
export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
}

/** What a budget error names; the reason is fixed text, never a value or template excerpt. */
export type TemplateBudget = 'template size' | 'nesting depth' | 'steps' | 'work' | 'value size' | 'output size';

/**
 * A template that exceeds one of herald's rendering budgets (go-template.ts TEMPLATE_LIMITS).
 * Its message is one of six fixed sentences, so a cancel reason never depends on the data.
 */
export class TemplateBudgetError extends Error {
  override readonly name = 'TemplateBudgetError';
  constructor(readonly budget: TemplateBudget) {
    super(`template exceeds herald's rendering budget (${budget})`);
  }
}

/** Deep nesting only ever comes from hostile or broken input. */
export const MAX_DEPTH = 32;

/** Longest template source excerpt quoted in a syntax error. */
const MAX_QUOTED = 40;

/** Template source (never data) in a message, cut so a reason stays short. */
function cut(s: string): string {
  return s.length > MAX_QUOTED ? `${s.slice(0, MAX_QUOTED)}…` : s;
}

export type Operand =
  | { readonly kind: 'dot' }
  | { readonly kind: 'root' }
  | { readonly kind: 'field'; readonly root: boolean; readonly name: string }
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'func'; readonly name: string }
  | { readonly kind: 'pipe'; readonly pipe: Pipeline };

export type Command = readonly Operand[];
export type Pipeline = readonly Command[];

export type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'print'; readonly pipe: Pipeline }
  | {
      readonly kind: 'if' | 'with' | 'range';
      readonly pipe: Pipeline;
      readonly body: readonly Node[];
      readonly elseBody: readonly Node[];
    };

export const FUNCTION_NAMES = new Set(['and', 'or', 'not', 'eq', 'ne', 'len', 'html', 'urlquery', 'print', 'printf']);
const KEYWORDS = new Set(['if', 'with', 'range', 'else', 'end', 'define', 'template', 'block', 'break', 'continue']);

type Token =
  | { readonly t: 'pipe' }
  | { readonly t: 'lparen' }
  | { readonly t: 'rparen' }
  | { readonly t: 'operand'; readonly op: Operand }
  | { readonly t: 'ident'; readonly name: string };

interface Action {
  readonly kind: 'action';
  readonly tokens: readonly Token[];
  readonly source: string;
}
type Item = { readonly kind: 'text'; text: string } | Action;

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/**
 * Go's trim marker removes trailing spaces, tabs and newlines. A loop from the end: the regex
 * `/[ \t\r\n]+$/` retried every start in a long run of spaces (80 000 spaces took 13 s).
 */
function trimEndSpace(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1])) end--;
  return text.slice(0, end);
}

/** Split the template into text and action items, applying trim markers. */
function scan(src: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open < 0) {
      items.push({ kind: 'text', text: src.slice(pos) });
      break;
    }
    let text = src.slice(pos, open);
    let i = open + 2;
    if (src[i] === '-' && isSpace(src[i + 1])) {
      text = trimEndSpace(text);
      i += 2;
    }
    if (text) items.push({ kind: 'text', text });
    while (isSpace(src[i])) i++;
    let end: number;
    let body: string;
    if (src.startsWith('/*', i)) {
      const close = src.indexOf('*/', i + 2);
      if (close < 0) throw new TemplateSyntaxError('unclosed comment');
      end = close + 2;
      while (isSpace(src[end])) end++;
      if (src[end] === '-' && isSpace(src[end - 1])) end++;
      if (!src.startsWith('}}', end)) throw new TemplateSyntaxError('comment ends before closing delimiter');
      body = '';
    } else {
      end = findActionEnd(src, i);
      body = src.slice(i, end);
    }
    const rightTrim = end > 0 && src[end - 1] === '-' && isSpace(src[end - 2]);
    if (rightTrim) body = body.slice(0, -1);
    pos = end + 2;
    if (rightTrim) while (isSpace(src[pos])) pos++;
    if (body.trim() !== '') items.push({ kind: 'action', tokens: tokenize(body), source: body.trim() });
    else if (!src.startsWith('/*', i)) throw new TemplateSyntaxError('missing value for command');
  }
  return items;
}

/** Index of the closing `}}`, skipping quoted strings (which may contain braces). */
function findActionEnd(src: string, from: number): number {
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (c === '"' || c === '`') {
      const close = c === '"' ? findQuoteEnd(src, i) : src.indexOf('`', i + 1);
      if (close < 0) throw new TemplateSyntaxError('unterminated quoted string');
      i = close + 1;
    } else if (c === '}' && src[i + 1] === '}') {
      return i;
    } else {
      i++;
    }
  }
  throw new TemplateSyntaxError('unclosed action');
}

function findQuoteEnd(src: string, open: number): number {
  for (let i = open + 1; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '"') return i;
    else if (src[i] === '\n') return -1;
  }
  return -1;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function unquote(lit: string): string {
  return lit.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    const r = ESCAPES[e];
    if (r === undefined) throw new TemplateSyntaxError(`unknown escape sequence \\${e}`);
    return r;
  });
}

const TOKEN_RE =
  /\s+|(\|)|(\()|(\))|("(?:[^"\\\n]|\\.)*")|(`[^`]*`)|(\$\.[A-Za-z_]\w*|\.[A-Za-z_]\w*|\$|\.)(?![.\w])|([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![.\w])|([A-Za-z_]\w*)(?![.\w])/y;

function tokenize(body: string): Token[] {
  const tokens: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  while (TOKEN_RE.lastIndex < body.length) {
    const at = TOKEN_RE.lastIndex;
    const m = TOKEN_RE.exec(body);
    if (!m) {
      // A bounded look at what follows: the checks below are anchored, the message is cut.
      const rest = body.slice(at, at + 256);
      if (/^(\$?\.[A-Za-z_]\w*){2,}/.test(rest) || /^\$?\.\w+\./.test(rest)) {
        const word = rest.slice(0, MAX_QUOTED + 1).split(/\s/)[0] ?? '';
        throw new TemplateSyntaxError(`nested field access is not supported: ${cut(word)}`);
      }
      if (/^\$\w/.test(rest) || rest.startsWith(':=') || rest.startsWith('=')) {
        throw new TemplateSyntaxError('template variables are not supported');
      }
      throw new TemplateSyntaxError(`unexpected ${JSON.stringify(rest.slice(0, 20))} in action`);
    }
    const [, pipe, lp, rp, dq, raw, field, num, ident] = m;
    if (pipe) tokens.push({ t: 'pipe' });
    else if (lp) tokens.push({ t: 'lparen' });
    else if (rp) tokens.push({ t: 'rparen' });
    else if (dq !== undefined) tokens.push({ t: 'operand', op: { kind: 'literal', value: unquote(dq) } });
    else if (raw !== undefined) tokens.push({ t: 'operand', op: { kind: 'literal', value: raw.slice(1, -1) } });
    else if (field) tokens.push({ t: 'operand', op: fieldOperand(field) });
    else if (num) tokens.push({ t: 'operand', op: { kind: 'literal', value: Number(num) } });
    else if (ident) tokens.push(identToken(ident));
  }
  return tokens;
}

function fieldOperand(s: string): Operand {
  if (s === '.') return { kind: 'dot' };
  if (s === '$') return { kind: 'root' };
  const root = s.startsWith('$');
  return { kind: 'field', root, name: s.slice(root ? 2 : 1) };
}

function identToken(name: string): Token {
  if (name === 'true' || name === 'false') return { t: 'operand', op: { kind: 'literal', value: name === 'true' } };
  if (name === 'nil') return { t: 'operand', op: { kind: 'literal', value: null } };
  return { t: 'ident', name };
}

/** Recursive-descent parse of one action's tokens into a pipeline. */
function parsePipeline(tokens: readonly Token[], start: number, depth: number): { pipe: Pipeline; next: number } {
  if (depth > MAX_DEPTH) throw new TemplateBudgetError('nesting depth');
  const pipe: Command[] = [];
  let cmd: Operand[] = [];
  let i = start;
  const endCommand = (): void => {
    if (cmd.length === 0) throw new TemplateSyntaxError('missing command in pipeline');
    if (cmd.length > 1 && cmd[0]?.kind !== 'func') throw new TemplateSyntaxError("can't give argument to non-function");
    pipe.push(cmd);
    cmd = [];
  };
  for (; i < tokens.length; i++) {
    const tok = tokens[i];
    if (!tok || tok.t === 'rparen') break;
    if (tok.t === 'pipe') {
      endCommand();
    } else if (tok.t === 'lparen') {
      const inner = parsePipeline(tokens, i + 1, depth + 1);
      if (tokens[inner.next]?.t !== 'rparen') throw new TemplateSyntaxError('unclosed left paren');
      cmd.push({ kind: 'pipe', pipe: inner.pipe });
      i = inner.next;
    } else if (tok.t === 'ident') {
      if (!FUNCTION_NAMES.has(tok.name)) throw new TemplateSyntaxError(`function "${cut(tok.name)}" not defined`);
      if (cmd.length > 0) throw new TemplateSyntaxError(`function "${tok.name}" used as an argument`);
      cmd.push({ kind: 'func', name: tok.name });
    } else {
      cmd.push(tok.op);
    }
  }
  endCommand();
  for (const [n, c] of pipe.entries()) {
    if (n > 0 && c[0]?.kind !== 'func') throw new TemplateSyntaxError("can't give argument to non-function");
  }
  return { pipe, next: i };
}

function parseActionPipeline(tokens: readonly Token[], from: number, depth: number): Pipeline {
  const { pipe, next } = parsePipeline(tokens, from, depth);
  if (next < tokens.length) throw new TemplateSyntaxError('unexpected right paren');
  return pipe;
}

function keyword(a: Action): string | undefined {
  const first = a.tokens[0];
  return first?.t === 'ident' && KEYWORDS.has(first.name) ? first.name : undefined;
}

interface ListResult {
  readonly nodes: Node[];
  /** The action that ended the list: `end`, or `else` (with its tokens). */
  readonly stop?: Action;
}

function parseList(items: readonly Item[], cursor: { i: number }, depth: number): ListResult {
  if (depth > MAX_DEPTH) throw new TemplateBudgetError('nesting depth');
  const nodes: Node[] = [];
  while (cursor.i < items.length) {
    const item = items[cursor.i++];
    if (!item) break;
    if (item.kind === 'text') {
      nodes.push({ kind: 'text', text: item.text });
      continue;
    }
    const kw = keyword(item);
    if (kw === 'end' || kw === 'else') {
      if (kw === 'end' && item.tokens.length > 1) throw new TemplateSyntaxError('unexpected arguments to end');
      return { nodes, stop: item };
    }
    if (kw === 'if' || kw === 'with' || kw === 'range') {
      nodes.push(parseBlock(kw, item, 1, items, cursor, depth + 1));
    } else if (kw !== undefined) {
      throw new TemplateSyntaxError(`{{${kw}}} is not supported`);
    } else {
      nodes.push({ kind: 'print', pipe: parseActionPipeline(item.tokens, 0, 0) });
    }
  }
  return { nodes };
}

function parseBlock(kind: 'if' | 'with' | 'range', action: Action, from: number, items: readonly Item[], cursor: { i: number }, depth: number): Node {
  if (action.tokens.length <= from) throw new TemplateSyntaxError(`missing value for ${kind}`);
  const pipe = parseActionPipeline(action.tokens, from, 0);
  const body = parseList(items, cursor, depth);
  if (!body.stop) throw new TemplateSyntaxError(`unexpected EOF: {{${kind}}} without {{end}}`);
  if (keyword(body.stop) === 'end') return { kind, pipe, body: body.nodes, elseBody: [] };
  // {{else}} or {{else if …}} / {{else with …}}: the chained block shares our {{end}}.
  const next = body.stop.tokens[1];
  if (next) {
    if (next.t !== 'ident' || (next.name !== 'if' && next.name !== 'with') || kind === 'range') {
      throw new TemplateSyntaxError(`unexpected ${cut(body.stop.source)}`);
    }
    const chained = parseBlock(next.name, body.stop, 2, items, cursor, depth + 1);
    return { kind, pipe, body: body.nodes, elseBody: [chained] };
  }
  const elseBody = parseList(items, cursor, depth);
  if (!elseBody.stop || keyword(elseBody.stop) !== 'end') {
    throw new TemplateSyntaxError(`{{${kind}}} without {{end}}`);
  }
  return { kind, pipe, body: body.nodes, elseBody: elseBody.nodes };
}

/** Parse a template into a tree; throws TemplateSyntaxError. */
export function parseGoTemplate(src: string): readonly Node[] {
  const items = scan(src);
  const cursor = { i: 0 };
  const result = parseList(items, cursor, 0);
  if (result.stop) throw new TemplateSyntaxError(`unexpected {{${cut(result.stop.source)}}}`);
  return result.nodes;
}
