/**
 * `herald status <id>` and `herald history [filters]`: read the delivery history and print
 * it (src/cli.ts parses the arguments). Exit codes: status 0 found, 1 not found; bad usage 2
 * (a ConfigError naming the option).
 */
import type { Pool } from 'pg';

import { tryParseGoDuration } from '../config/duration.js';
import { ConfigError } from '../errors.js';
import { getDeliveries, type HistoryFilter, listDeliveries, MAX_LIMIT } from './queries.js';
import { renderJsonLines, renderTable, renderTimeline } from './render.js';
import type { DeliveryState } from './types.js';

const ID = /^[A-Za-z0-9_.-]{1,200}$/;

export interface Out {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}

export interface HistoryOptions {
  readonly instance?: string;
  readonly user?: string;
  readonly state?: DeliveryState;
  readonly since?: string;
  readonly limit?: number;
  readonly json?: boolean;
}

function checkId(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!ID.test(value)) throw new ConfigError(`${option}: must be 1-${200} letters, digits, _ . or -`);
  return value;
}

/** The table is missing before `herald migrate`: say so instead of Postgres' text. */
async function withHistoryTable<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if ((err as { code?: unknown }).code === '42P01') throw new Error('herald.deliveries does not exist: run `herald migrate` first', { cause: err });
    throw err;
  }
}

export async function runStatusCommand(pool: Pool, id: string, opts: { json?: boolean }, out: Out): Promise<number> {
  checkId('<id>', id);
  const found = await withHistoryTable(() => getDeliveries(pool, id));
  if (found.length === 0) {
    out.stderr(`herald: no notification ${id} in the delivery history\n`);
    return 1;
  }
  out.stdout(opts.json ? found.map((d) => JSON.stringify(d) + '\n').join('') : found.map(renderTimeline).join('\n'));
  return 0;
}

export function historyFilter(opts: HistoryOptions): HistoryFilter {
  let sinceMs: number | undefined;
  if (opts.since !== undefined) {
    const parsed = tryParseGoDuration(opts.since.trim());
    if (!parsed.ok || parsed.ms <= 0) throw new ConfigError(`--since=${opts.since}: must be a positive Go duration, e.g. 1h or 30m`);
    sinceMs = parsed.ms;
  }
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 1 && opts.limit <= MAX_LIMIT)) {
    throw new ConfigError(`--limit=${opts.limit}: must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return {
    instanceId: checkId('--instance', opts.instance),
    userId: checkId('--user', opts.user),
    state: opts.state,
    sinceMs,
    limit: opts.limit,
  };
}

export async function runHistoryCommand(pool: Pool, opts: HistoryOptions, out: Out): Promise<number> {
  const filter = historyFilter(opts);
  const rows = await withHistoryTable(() => listDeliveries(pool, filter));
  out.stdout(opts.json ? renderJsonLines(rows) : renderTable(rows));
  return 0;
}
