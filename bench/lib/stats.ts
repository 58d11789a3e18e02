/** Small numeric helpers for the figures. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export function latencySummary(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

/** Rate (per second) of the first and last `share` of accept times (sorted ascending). */
export function edgeRates(times: readonly number[], share = 0.1): { first: number; last: number } {
  const n = times.length;
  const k = Math.max(2, Math.floor(n * share));
  if (n < 2 * k) return { first: NaN, last: NaN };
  const rate = (a: number, b: number): number => (b - a > 0 ? ((k - 1) / (b - a)) * 1000 : NaN);
  return { first: rate(times[0] ?? 0, times[k - 1] ?? 0), last: rate(times[n - k] ?? 0, times[n - 1] ?? 0) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
