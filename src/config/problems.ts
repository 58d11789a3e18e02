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

/** Hides the password of `scheme://user:password@host`, also in strings that are not valid URLs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/@\s:]*:)[^@\s]*@/, '$1***@');
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}
