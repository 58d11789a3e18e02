/**
 * Bull Board under /dashboard for every herald queue, read-only unless configured otherwise.
 *
 * Jobs only carry event coordinates (src/queue/names.ts), but the board shows whatever is in
 * Redis, so its formatters pass through an allow-list of fields and replace anything else
 * with "[redacted]": a job written by a future version or by hand cannot leak a code here.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';

import type { Queues } from '../queue/queues.js';

export const DASHBOARD_PATH = '/dashboard';
const REDACTED = '[redacted]';

/** Fields of NotificationJobData / Outcome that are known to be safe to show. */
const SAFE_DATA_KEYS: ReadonlySet<string> = new Set(['instanceId', 'aggregateId', 'sequence', 'delivered', 'at']);
const SAFE_RESULT_KEYS: ReadonlySet<string> = new Set(['kind', 'attempt', 'channel', 'messageType', 'delayMs']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keeps allow-listed keys with primitive (or nested allow-listed) values; masks the rest. */
export function redactJobField(value: unknown, safe: ReadonlySet<string>): unknown {
  if (value === null || value === undefined) return value;
  if (!isRecord(value)) return typeof value === 'number' || typeof value === 'boolean' ? value : REDACTED;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!safe.has(key)) out[key] = REDACTED;
    else if (isRecord(v)) out[key] = redactJobField(v, safe);
    else out[key] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? v : REDACTED;
  }
  return out;
}

export interface DashboardOptions {
  readonly queues: Queues;
  readonly readonly: boolean;
}

/** Registers Bull Board's routes and static assets on `scope` (its prefix is DASHBOARD_PATH). */
export async function registerDashboard(scope: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const adapters = [opts.queues.requests, opts.queues.retries].map((queue) => {
    const adapter = new BullMQAdapter(queue, {
      readOnlyMode: opts.readonly,
      allowRetries: !opts.readonly,
      description: 'herald',
    });
    adapter.setFormatter('data', (data: unknown) => redactJobField(data, SAFE_DATA_KEYS));
    adapter.setFormatter('returnValue', (value: unknown) => redactJobField(value, SAFE_RESULT_KEYS));
    adapter.setFormatter('progress', (value: unknown) => redactJobField(value, new Set()));
    return adapter;
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig: { boardTitle: 'herald' } },
  });
  await scope.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}
