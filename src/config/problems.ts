/**
 * Collects every configuration problem so one run shows them all (house style §5), then
 * throws a single one-line ConfigError.
 */
import { ConfigError } from '../errors.js';

export interface Problems {
  /** `where` names the setting (and its shown value); `reason` says what is wrong. */
  add(where: string, reason: string): void;
  /** Throws one ConfigError listing every problem, joined with `; `. */
  throwIfAny(): void;
}

export function makeProblems(): Problems {
  const list: string[] = [];
  return {
    add(where, reason) {
      list.push(oneLine(`${where}: ${reason}`));
    },
    throwIfAny() {
      if (list.length > 0) throw new ConfigError(list.join('; '));
    },
  };
}

const MAX_SHOWN = 80;

/** A value as it appears in a message: JSON-quoted, one line, and cut when long. */
export function show(value: unknown): string {
  let text: string;
  // JSON would print Infinity and NaN (from YAML .inf/.nan) as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** `NAME="value"`, the form every non-secret problem starts with. */
export function labelled(name: string, value: unknown): string {
  return `${name}=${show(value)}`;
}

/**
 * Hides the credentials (user and password) of `scheme://user:password@host`. A URL is parsed
 * with WHATWG URL and shown without its username and password. Text that does not parse, or
 * has an `@` the parser did not take as the end of the credentials (a password holding `/`),
 * loses everything from the scheme up to its last `@`. The former regex stopped at the first
 * `@` and showed the rest of a password holding one.
 */
export function redactUrl(url: string): string {
  const lastAt = url.lastIndexOf('@');
  if (lastAt < 0) return url;
  try {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') {
      parsed.username = '';
      parsed.password = '';
      if (!parsed.href.includes('@')) return parsed.href.replace('//', '//***@');
    }
  } catch {
    // Not a URL: fall through to the conservative cut.
  }
  const scheme = url.indexOf('://');
  const start = scheme >= 0 ? scheme + 3 : 0;
  return lastAt < start ? url : `${url.slice(0, start)}***${url.slice(lastAt)}`;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}
