/**
 * `herald demo --source river`: the trigger events and River jobs ZITADEL v2.71+ writes
 * for a few notifications — each trigger on the user, then one `notification_request` row
 * as the user notifier inserts it (River's defaults, MaxAttempts 3), then River's insert NOTIFY.
 */
import { randomInt } from 'node:crypto';

import type { Pool } from 'pg';

import type { Keyring } from '../crypto/keyring.js';
import { NOTIFICATION_CREATOR } from '../eventstore/notification-types.js';
import { push } from '../eventstore/push.js';
import { RIVER_INSERT_CHANNEL, RIVER_KIND, RIVER_QUEUE } from './schema.js';

export interface DemoUserRef {
  readonly instanceId: string;
  readonly orgId: string;
  readonly userId: string;
}

export const insertDemoJobSql = `
INSERT INTO queue.river_job (args, kind, max_attempts, priority, queue, state)
VALUES ($1::jsonb, '${RIVER_KIND}', 3, 1, '${RIVER_QUEUE}', 'available')
RETURNING id::text AS id`;

export async function seedRiverJobs(
  pool: Pool,
  keyring: Keyring,
  keyId: string,
  user: DemoUserRef,
  requests: readonly { eventType: string; messageType: string; notificationType: 0 | 1; isOTP?: boolean; urlTemplate?: string }[],
): Promise<number> {
  for (const r of requests) {
    const code = await keyring.encryptString(keyId, String(randomInt(100000, 999999)));
    await push(pool, [
      {
        instanceId: user.instanceId,
        aggregateType: 'user',
        aggregateId: user.userId,
        eventType: r.eventType,
        revision: 2,
        payload: { code, expiry: 600_000_000_000 },
        creator: NOTIFICATION_CREATOR,
        owner: user.orgId,
      },
    ]);
    const args = {
      aggregate: { id: user.userId, type: 'user', resourceOwner: user.orgId, instanceId: user.instanceId, version: 'v2' },
      userID: user.userId,
      userResourceOwner: user.orgId,
      triggeredAtOrigin: 'http://localhost:8080',
      eventType: r.eventType,
      messageType: r.messageType,
      notificationType: r.notificationType,
      ...(r.urlTemplate ? { urlTemplate: r.urlTemplate } : {}),
      codeExpiry: 600_000_000_000,
      code,
      ...(r.isOTP ? { isOTP: true, args: { origin: 'http://localhost:8080', domain: 'localhost', expiry: 300_000_000_000 } } : {}),
    };
    await pool.query(insertDemoJobSql, [JSON.stringify(args)]);
  }
  await pool.query('SELECT pg_notify($1, $2)', [RIVER_INSERT_CHANNEL, JSON.stringify({ queue: RIVER_QUEUE })]);
  return requests.length;
}
