/** Helpers shared by the eventstore tests. */
import { readFileSync } from 'node:fs';

import type pg from 'pg';

import type { EventCommand } from '../../src/eventstore/types.js';

const PUSH_FUNCTION_SQL = readFileSync(new URL('./zitadel-push-function.sql', import.meta.url), 'utf8');

/** Installs ZITADEL 2.67+'s eventstore.command type and push functions (setup step 40). */
export async function installPushFunction(pool: pg.Pool): Promise<void> {
  await pool.query(PUSH_FUNCTION_SQL);
}

export function command(overrides: Partial<EventCommand> & Pick<EventCommand, 'aggregateId'>): EventCommand {
  return {
    instanceId: 'inst-1',
    aggregateType: 'notification',
    eventType: 'notification.sent',
    revision: 1,
    payload: {},
    creator: 'NOTIFICATION',
    owner: '',
    ...overrides,
  };
}

/** Waits (bounded, by polling the server's own state) until a session waits on a lock. */
export async function waitForLockWait(pool: pg.Pool, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::INT AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.n ?? 0) > 0) return;
    if (Date.now() > deadline) throw new Error('no session started waiting for a lock');
    await new Promise((r) => setImmediate(r));
  }
}
