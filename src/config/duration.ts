/**
 * Go's `time.ParseDuration` and `time.Duration.String()`, so that ZITADEL's duration settings
 * (`2s`, `1m30s`, `250ms`) mean the same here and log the same way.
 *
 * Both work in integer nanoseconds internally (BigInt, like Go's int64) and convert to
 * milliseconds only at the edge, so fractions truncate exactly where Go truncates them.
 */
import { ConfigError } from '../errors.js';

const NS_PER_MS = 1_000_000;
/** Go's Duration is an int64 of nanoseconds. */
const MAX_NS = (1n << 63n) - 1n;

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n, // µ MICRO SIGN
  '\u03bcs': 1_000n, // μ GREEK SMALL LETTER MU
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** `reason` is Go's error text without the `time: ` prefix and the quoted input. */
type ParseResult = { ok: true; ns: bigint } | { ok: false; reason: string };

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Go's leadingFraction: digits beyond what fits in an int64 are dropped, not an error. */
function leadingFraction(digits: string): { f: bigint; scale: number } {
  let f = 0n;
  let scale = 1;
  for (const c of digits) {
    if (f > MAX_NS / 10n) break;
    const next = f * 10n + BigInt(c);
    if (next > 1n << 63n) break;
    f = next;
    scale *= 10;
  }
  return { f, scale };
}

/** A port of Go's time.ParseDuration (src/time/format.go), error texts included. */
function parseNs(orig: string): ParseResult {
  const invalid: ParseResult = { ok: false, reason: 'invalid duration' };
  let s = orig;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  // Special case: a bare zero needs no unit.
  if (s === '0') return { ok: true, ns: 0n };
  if (s === '') return invalid;

  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return invalid;

    let i = 0;
    while (isDigit(s[i])) i++;
    const intDigits = s.slice(0, i);
    s = s.slice(i);

    let fracDigits = '';
    if (s.startsWith('.')) {
      s = s.slice(1);
      let j = 0;
      while (isDigit(s[j])) j++;
      fracDigits = s.slice(0, j);
      s = s.slice(j);
    }
    // "." alone, or ".s", has neither integer nor fraction digits.
    if (intDigits === '' && fracDigits === '') return invalid;

    let u = 0;
    while (u < s.length && !(s[u] === '.' || isDigit(s[u]))) u++;
    if (u === 0) return { ok: false, reason: 'missing unit in duration' };
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNIT_NS[unitName];
    if (unit === undefined) {
      return { ok: false, reason: `unknown unit ${JSON.stringify(unitName)} in duration` };
    }

    let v = intDigits === '' ? 0n : BigInt(intDigits);
    if (v > (1n << 63n) / unit) return invalid;
    v *= unit;
    const { f, scale } = leadingFraction(fracDigits);
    if (f > 0n) {
      // Go scales the fraction in float64 and truncates; do the same so sub-nanosecond
      // rounding of long fractions matches bit for bit.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > 1n << 63n) return invalid;
    }
    total += v;
    if (total > 1n << 63n) return invalid;
  }
  if (neg) return { ok: true, ns: -total };
  if (total > MAX_NS) return invalid;
  return { ok: true, ns: total };
}

/**
 * Parses a Go duration string (`1h2m3.5s`, `250ms`, `10µs`, `0`, `-1s`) into milliseconds,
 * which may be fractional (`10us` → 0.01). Negative values parse; callers decide whether
 * they are allowed.
 *
 * @throws ConfigError with Go's own error text, e.g. `time: missing unit in duration "5"`.
 */
export function parseGoDuration(s: string): number {
  const result = tryParseGoDuration(s);
  if (!result.ok) throw new ConfigError(`time: ${result.reason} ${JSON.stringify(s)}`);
  return result.ms;
}

/**
 * parseGoDuration without throwing; `reason` omits the input so callers can print it
 * their own way.
 * @internal
 */
export function tryParseGoDuration(s: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const result = parseNs(s);
  if (!result.ok) return result;
  // Number(0n) is +0, so "-0s" never turns into -0.
  return { ok: true, ms: Number(result.ns) / NS_PER_MS };
}

/** Go's fmtFrac: the fraction of v / 10^prec without trailing zeros (and no dot when zero). */
function fmtFrac(v: bigint, prec: number): { frac: string; rest: bigint } {
  let digits = '';
  let printed = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    printed = printed || digit !== 0n;
    if (printed) digits = digit.toString() + digits;
    v /= 10n;
  }
  return { frac: printed ? `.${digits}` : '', rest: v };
}

/**
 * Renders milliseconds the way Go's `time.Duration.String()` does: `5m0s`, `1.5s`, `250ms`,
 * `10µs`, `0s`, `1h0m0s`. The value is rounded to whole nanoseconds first, as a Go Duration is.
 */
export function formatGoDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`not a finite duration: ${ms}`);
  const ns = BigInt(Math.round(ms * NS_PER_MS));
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    // Below one second Go switches to the largest sub-second unit, e.g. 1.2ms.
    if (u === 0n) return '0s';
    let prec: number;
    let unit: string;
    if (u < 1_000n) {
      prec = 0;
      unit = 'ns';
    } else if (u < 1_000_000n) {
      prec = 3;
      unit = '\u00b5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const { frac, rest } = fmtFrac(u, prec);
    out = `${rest}${frac}${unit}`;
  } else {
    const { frac, rest: seconds } = fmtFrac(u, 9);
    out = `${seconds % 60n}${frac}s`;
    const minutes = seconds / 60n;
    if (minutes > 0n) {
      out = `${minutes % 60n}m${out}`;
      // Go stops at hours because days can have different lengths.
      const hours = minutes / 60n;
      if (hours > 0n) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}
