/**
 * A small interpreter for the Go text/template subset used by ZITADEL URL
 * templates and message texts. Values from the data are only ever printed,
 * never parsed, so an arg like `{{.Code}}` stays literal text.
 */
import { PermanentError } from '../errors.js';
import type { Command, Node, Operand, Pipeline } from './go-template-parse.js';
import { parseGoTemplate, type TemplateBudget, TemplateBudgetError, TemplateSyntaxError } from './go-template-parse.js';
import type { TemplateArgs, TemplateValue } from './types.js';

/** Output cap: a message body never needs more; ranges must not amplify without bound. */
export const MAX_TEMPLATE_OUTPUT = 256 * 1024;

/**
 * The rendering budget of one template (issue #11): templates are tenant input, and rendering
 * is synchronous, so every render must end quickly whatever the template does. herald's own
 * texts and ZITADEL's default mail template use a small fraction of each limit.
 */
export const TEMPLATE_LIMITS = {
  /** Characters of template source; checked before parsing. */
  sourceChars: 256 * 1024,
  /** Node evaluations, range iterations, commands and operands. */
  steps: 50_000,
  /** Characters produced in total: text written (or dropped, e.g. in an HTML comment), values built. */
  workChars: 4 * 1024 * 1024,
  /** Characters of any one value a function builds (printf, print, html, urlquery) or prints. */
  valueChars: 64 * 1024,
  /** Characters of output. */
  outputChars: MAX_TEMPLATE_OUTPUT,
} as const;

/** Counts steps and characters of one render; throws TemplateBudgetError past a limit. */
class Budget {
  private steps = 0;
  private work = 0;

  step(): void {
    if (++this.steps > TEMPLATE_LIMITS.steps) exceeded('steps');
  }

  /** Accounts for `n` characters processed or produced. */
  charge(n: number): void {
    this.work += n;
    if (this.work > TEMPLATE_LIMITS.workChars) exceeded('work');
  }

  /** Checks and accounts for a value that was built. */
  value<T extends Value>(v: T): T {
    if (typeof v === 'string') {
      if (v.length > TEMPLATE_LIMITS.valueChars) exceeded('value size');
      this.charge(v.length);
    }
    return v;
  }
}

function exceeded(budget: TemplateBudget): never {
  throw new TemplateBudgetError(budget);
}

/** Appends to a string being built, refusing to grow past the value cap. */
function append(out: string, s: string): string {
  if (out.length + s.length > TEMPLATE_LIMITS.valueChars) exceeded('value size');
  return out + s;
}

/** The template's root map, distinct from list values. */
class MapValue {
  constructor(readonly data: TemplateArgs) {}
}
type Value = string | number | boolean | readonly string[] | null | MapValue;

export interface RenderGoTemplateOptions {
  /** Applied to every printed value (not to the template's own text), e.g. escapeHtml. */
  readonly escape?: (s: string) => string;
  /** Applied to the template's own text as it is written (html/template's context tracking). */
  readonly text?: (s: string) => string;
  /**
   * Data is a Go struct rather than a map: a field it does not have is an execution error
   * ("can't evaluate field"), not `<no value>`.
   */
  readonly strictFields?: boolean;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  "'": '&#39;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
};

/** Go's html.EscapeString: escapes `<>&'"`. */
export function escapeHtml(s: string): string {
  return s.replace(/[&'<>"]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Go's url.QueryEscape: everything but unreserved characters, space as `+`. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function fail(message: string): never {
  throw new TemplateSyntaxError(message);
}

function norm(v: TemplateValue): Value {
  return v === undefined ? null : v;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
}

/** fmt's %v; `top` prints a missing value as text/template does. */
function format(v: Value, top = true): string {
  if (v === null) return top ? '<no value>' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof MapValue) {
    const keys = Object.keys(v.data).sort();
    return `map[${keys.map((k) => `${k}:${format(norm(v.data[k]), false)}`).join(' ')}]`;
  }
  return `[${v.join(' ')}]`;
}

function isTrue(v: Value): boolean {
  if (v === null) return false;
  if (v instanceof MapValue) return Object.keys(v.data).length > 0;
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

function typeName(v: Value): string {
  if (v === null) return 'nil';
  if (v instanceof MapValue) return 'map';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}

/** fmt.Sprint: a space between operands when neither is a string. Bounded by the value cap. */
function sprint(args: readonly Value[]): string {
  let out = '';
  args.forEach((a, i) => {
    const prev = args[i - 1];
    if (i > 0 && typeof a !== 'string' && typeof prev !== 'string') out = append(out, ' ');
    out = append(out, format(a));
  });
  return out;
}

/** fmt.Sprintf for %s %v %d %q %%, built piece by piece so it stops at the value cap. */
function sprintf(fmt: string, args: readonly Value[]): string {
  if (/%[^%svdq]/.test(fmt.replace(/%%/g, ''))) fail('printf: only %s, %v, %d, %q and %% are supported');
  const verbs = /%([%svdq])/g;
  let out = '';
  let n = 0;
  let last = 0;
  for (let m = verbs.exec(fmt); m; m = verbs.exec(fmt)) {
    out = append(out, fmt.slice(last, m.index));
    last = verbs.lastIndex;
    const verb = m[1];
    if (verb === '%') {
      out = append(out, '%');
      continue;
    }
    const a = args[n++];
    if (a === undefined) out = append(out, `%!${verb}(MISSING)`);
    else if (verb === 'd' && typeof a !== 'number') out = append(out, `%!d(${typeName(a)}=${format(a)})`);
    else out = append(out, verb === 'q' ? JSON.stringify(format(a)) : format(a));
  }
  out = append(out, fmt.slice(last));
  for (const [i, a] of args.slice(n).entries()) out = append(out, `${i === 0 ? '%!(EXTRA ' : ', '}${format(a)}`);
  return n < args.length ? append(out, ')') : out;
}

function equal(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'object' || typeof b === 'object') fail('eq: uncomparable type');
  if (typeof a !== typeof b) fail(`eq: incompatible types for comparison (${typeName(a)}, ${typeName(b)})`);
  return a === b;
}

function callFunction(name: string, args: readonly Value[]): Value {
  const need = (min: number): void => {
    if (args.length < min) fail(`wrong number of args for ${name}: want at least ${min} got ${args.length}`);
  };
  switch (name) {
    case 'and':
      need(1);
      return args.find((a) => !isTrue(a)) ?? args[args.length - 1] ?? null;
    case 'or':
      need(1);
      return args.find((a) => isTrue(a)) ?? args[args.length - 1] ?? null;
    case 'not':
      if (args.length !== 1) fail('wrong number of args for not: want 1');
      return !isTrue(args[0] ?? null);
    case 'eq':
    case 'ne': {
      need(2);
      const [first = null, ...rest] = args;
      const hit = rest.some((b) => equal(first, b));
      return name === 'eq' ? hit : !hit;
    }
    case 'len': {
      const [a] = args;
      if (args.length !== 1) fail('wrong number of args for len: want 1');
      if (typeof a === 'string') return Buffer.byteLength(a, 'utf8');
      if (Array.isArray(a)) return a.length;
      if (a instanceof MapValue) return Object.keys(a.data).length;
      return fail(`len of ${typeName(a ?? null)}`);
    }
    case 'html':
      return escapeHtml(goFuncArg(args)).replace(/\0/g, '\uFFFD');
    case 'urlquery':
      return queryEscape(goFuncArg(args));
    case 'print':
      return sprint(args);
    case 'printf': {
      const [f, ...rest] = args;
      if (typeof f !== 'string') fail('printf: format must be a string');
      return sprintf(f, rest);
    }
    default:
      return fail(`function "${name}" not defined`);
  }
}

/** text/template's evalArgs: a single string as-is, otherwise fmt.Sprint. */
function goFuncArg(args: readonly Value[]): string {
  const [only] = args;
  return args.length === 1 && typeof only === 'string' ? only : sprint(args);
}

class Executor {
  private out = '';
  private readonly budget = new Budget();

  constructor(
    private readonly root: MapValue,
    private readonly opts: RenderGoTemplateOptions,
  ) {}

  result(): string {
    return this.out;
  }

  private write(s: string): void {
    if (this.out.length + s.length > TEMPLATE_LIMITS.outputChars) exceeded('output size');
    this.budget.charge(s.length);
    this.out += s;
  }

  walk(nodes: readonly Node[], dot: Value): void {
    for (const node of nodes) {
      this.budget.step();
      switch (node.kind) {
        case 'text':
          // Charged before it is processed: text the context drops (comments) still costs.
          this.budget.charge(node.text.length);
          this.write(this.opts.text ? this.opts.text(node.text) : node.text);
          break;
        case 'print': {
          const s = this.budget.value(format(this.pipeline(node.pipe, dot)));
          this.write(this.opts.escape ? this.opts.escape(s) : s);
          break;
        }
        case 'if':
        case 'with': {
          const v = this.pipeline(node.pipe, dot);
          if (isTrue(v)) this.walk(node.body, node.kind === 'with' ? v : dot);
          else this.walk(node.elseBody, dot);
          break;
        }
        case 'range':
          this.range(node.pipe, node.body, node.elseBody, dot);
          break;
      }
    }
  }

  private range(pipe: Pipeline, body: readonly Node[], elseBody: readonly Node[], dot: Value): void {
    const v = this.pipeline(pipe, dot);
    let elements: Value[];
    if (v === null) elements = [];
    else if (Array.isArray(v)) elements = [...(v as readonly string[])];
    else if (v instanceof MapValue) {
      elements = Object.keys(v.data)
        .sort()
        .map((k) => norm(v.data[k]));
    }
    // The type only: the value may be a code (`range can't iterate over 483921`).
    else return fail(`range can't iterate over a ${typeName(v)}`);
    if (elements.length === 0) this.walk(elseBody, dot);
    for (const el of elements) {
      this.budget.step();
      this.walk(body, el);
    }
  }

  private pipeline(pipe: Pipeline, dot: Value): Value {
    let piped: Value | undefined;
    for (const cmd of pipe) piped = this.command(cmd, dot, piped);
    return piped ?? null;
  }

  private command(cmd: Command, dot: Value, piped: Value | undefined): Value {
    this.budget.step();
    const [head, ...rest] = cmd;
    if (!head) return fail('empty command');
    if (head.kind !== 'func') return this.operand(head, dot);
    const args = rest.map((op) => this.operand(op, dot));
    if (piped !== undefined) args.push(piped);
    return this.budget.value(callFunction(head.name, args));
  }

  private operand(op: Operand, dot: Value): Value {
    this.budget.step();
    switch (op.kind) {
      case 'dot':
        return dot;
      case 'root':
        return this.root;
      case 'literal':
        return op.value;
      case 'pipe':
        return this.pipeline(op.pipe, dot);
      case 'field': {
        const receiver = op.root ? this.root : dot;
        if (!(receiver instanceof MapValue)) return fail(`can't evaluate field ${op.name} in type ${typeName(receiver)}`);
        if (Object.hasOwn(receiver.data, op.name)) return norm(receiver.data[op.name]);
        return this.opts.strictFields ? fail(`can't evaluate field ${op.name}`) : null;
      }
      case 'func':
        return fail(`function "${op.name}" used as a value`);
    }
  }
}

/**
 * Render a Go text/template against `data`. Any template the subset cannot handle, or any
 * execution error, throws PermanentError('TEMPLATE_INVALID'); a template past one of the
 * TEMPLATE_LIMITS throws PermanentError('TEMPLATE_BUDGET') with a fixed reason. Neither
 * message ever quotes a value from `data`.
 */
export function renderGoTemplate(tmpl: string, data: TemplateArgs, opts: RenderGoTemplateOptions = {}): string {
  try {
    if (tmpl.length > TEMPLATE_LIMITS.sourceChars) exceeded('template size');
    const tree = parseGoTemplate(tmpl);
    const root = new MapValue(data);
    const exec = new Executor(root, opts);
    exec.walk(tree, root);
    return exec.result();
  } catch (err) {
    if (err instanceof TemplateBudgetError) throw new PermanentError('TEMPLATE_BUDGET', err.message);
    if (err instanceof TemplateSyntaxError) throw new PermanentError('TEMPLATE_INVALID', `template: ${err.message}`);
    if (err instanceof RangeError) {
      // "Invalid string length" or a stack overflow: whatever the engine hit, it is a budget.
      throw new PermanentError('TEMPLATE_BUDGET', new TemplateBudgetError('work').message);
    }
    throw err;
  }
}
