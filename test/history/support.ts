/** Shared bits of the delivery-history tests: a capturing logger, row reads, starting herald with it. */
import { Writable } from 'node:stream';

import type pg from 'pg';
import { pino } from 'pino';

import { type Herald, type Role, startHerald, type StartOptions } from '../../src/app.js';
import type { Config } from '../../src/config/types.js';
import { waitUntil } from '../helpers/wait.js';

/** A pino logger at debug whose every line is kept: tests grep it for addresses and codes. */
export function capturingLogger(): { logger: pino.Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => lines.join('') };
}

export interface DeliveryRow {
  source: string;
  id: string;
  instance_id: string;
  org_id: string | null;
  user_id: string | null;
  message_type: string | null;
  channel: string | null;
  provider_kind: string | null;
  recipient: string | null;
  state: string;
  attempts: number;
  attempt_log: { attempt: number; resultClass: string; errorCode: string | null; providerKind: string; startedAt: number; finishedAt: number }[];
  result_class: string | null;
  error_code: string | null;
  reason: string | null;
  provider_message_id: string | null;
  latency_ms: number | null;
  finished_at: Date | null;
}

export async function deliveryRow(pool: pg.Pool, id: string): Promise<DeliveryRow | undefined> {
  const { rows } = await pool.query<DeliveryRow>('SELECT * FROM herald.deliveries WHERE id = $1', [id]);
  return rows[0];
}

/** Waits until the notification's row is in one of `states`. */
export function waitForRow(pool: pg.Pool, id: string, states: readonly string[] = ['sent', 'canceled']): Promise<DeliveryRow> {
  return waitUntil(
    async () => {
      const row = await deliveryRow(pool, id);
      return row && states.includes(row.state) ? row : undefined;
    },
    { what: `history row ${id} in ${states.join('/')}`, timeoutMs: 30_000 },
  );
}

/** Every history row as JSON text (to grep for what must never be there). */
export async function allRowsText(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ j: string }>('SELECT row_to_json(d)::text AS j FROM herald.deliveries d');
  return rows.map((r) => r.j).join('\n');
}

export function startWith(
  logger: pino.Logger,
  cfg: Config,
  roles: readonly Role[] = ['all'],
  opts: StartOptions = { producerLoops: false },
): Promise<Herald> {
  return startHerald(cfg, roles, logger, opts);
}
