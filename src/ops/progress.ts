/**
 * Progress of a long one-shot command (`herald reconcile`, `herald demo`) on stderr: on a
 * terminal a single line rewritten in place (at most every `everyMs`), otherwise nothing
 * until one summary line at the end — logs and CI output stay one line per command.
 */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface Progress {
  /** The current state, e.g. `requests: 3 pages, 2 400 offered` (terminal only). */
  update(text: string): void;
  /** The summary line (always written), ending the progress line. */
  done(summary: string): void;
}

/** Control characters (ESC included) become spaces: what is printed never drives the terminal. */
function clean(s: string): string {
  let out = '';
  for (const c of s) {
    const n = c.charCodeAt(0);
    out += n < 0x20 || (n >= 0x7f && n < 0xa0) ? ' ' : c;
  }
  return out;
}

export function makeProgress(stream: ProgressStream, opts: { readonly everyMs?: number; readonly now?: () => number } = {}): Progress {
  const tty = stream.isTTY === true;
  const everyMs = opts.everyMs ?? 100;
  const now = opts.now ?? Date.now;
  let shownAt = -Infinity;
  let shown = false;
  return {
    update(text) {
      if (!tty) return;
      const t = now();
      if (t - shownAt < everyMs) return;
      shownAt = t;
      shown = true;
      // \r and "erase line": the line is rewritten in place.
      stream.write(`\r\u001b[2K${clean(text)}`);
    },
    done(summary) {
      stream.write(`${tty && shown ? '\r\u001b[2K' : ''}${clean(summary)}\n`);
    },
  };
}

/** Elapsed time for a summary line: `850 ms`, `12.3 s`. */
export function elapsed(startedAt: number, now = Date.now()): string {
  const ms = Math.max(0, now - startedAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
