/**
 * Writing a notification's outcome back to the eventstore, as ZITADEL's worker does, with an
 * optimistic check on the notification aggregate: if another worker wrote to it since we
 * read it, the push fails with ConcurrencyError and nothing is written.
 */
import type { Pool } from 'pg';

import { asDependency } from '../errors.js';
import type { PushBatcher } from '../eventstore/batch.js';
import { canceledPayload, retryPayload, sentPayload } from '../eventstore/notification.js';
import {
  NOTIFICATION_CREATOR,
  NOTIFICATION_REVISION,
  NotificationEvent,
  type NotificationRequest,
  type NotifyUser,
} from '../eventstore/notification-types.js';
import { push } from '../eventstore/push.js';
import type { EventCommand, Queryable, StoredEvent } from '../eventstore/types.js';

/** The notification aggregate as last read: its latest event. */
export type Latest = Pick<StoredEvent, 'instanceId' | 'aggregateId' | 'sequence' | 'owner'>;

function onNotification(latest: Latest, eventType: string, payload: unknown): EventCommand {
  return {
    instanceId: latest.instanceId,
    aggregateType: 'notification',
    aggregateId: latest.aggregateId,
    eventType,
    revision: NOTIFICATION_REVISION,
    payload,
    creator: NOTIFICATION_CREATOR,
    owner: latest.owner,
  };
}

function expectedOf(latest: Latest) {
  return [
    {
      instanceId: latest.instanceId,
      aggregateType: 'notification',
      aggregateId: latest.aggregateId,
      sequence: latest.sequence,
    },
  ];
}

export function writeCanceled(pool: Pool, latest: Latest, error: string): Promise<unknown> {
  return asDependency('writing notification.canceled', () =>
    push(pool, [onNotification(latest, NotificationEvent.canceled, canceledPayload(error))], {
      expected: expectedOf(latest),
    }),
  );
}

export function writeRetry(
  pool: Pool,
  latest: Latest,
  retry: { request: NotificationRequest; notifyUser: NotifyUser; error: string; backOffNs: number },
): Promise<unknown> {
  const payload = retryPayload(retry.request, retry.error, retry.notifyUser, retry.backOffNs);
  return asDependency('writing notification.retry.requested', () =>
    push(pool, [onNotification(latest, NotificationEvent.retryRequested, payload)], {
      expected: expectedOf(latest),
    }),
  );
}

const LATEST_TYPE_SQL = `
SELECT event_type FROM eventstore.events2
 WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3
 ORDER BY "sequence" DESC LIMIT 1`;

/** ZITADEL's sent commands refuse a removed or unknown user/session: then only notification.sent is written. */
export async function targetExists(db: Queryable, cmd: EventCommand): Promise<boolean> {
  const { rows } = await db.query<{ event_type: string }>(LATEST_TYPE_SQL, [cmd.instanceId, cmd.aggregateType, cmd.aggregateId]);
  const type = rows[0]?.event_type;
  return type !== undefined && type !== 'user.removed' && type !== 'session.terminated';
}

/**
 * notification.sent and the user/session `*.sent` event in one transaction (ZITADEL uses
 * two; one is safer: either both are there or the notification is still pending).
 */
export function writeSent(
  pool: Pool,
  latest: Latest,
  targetSent: EventCommand | undefined,
  opts: { batcher?: PushBatcher; targetChecked?: boolean } = {},
): Promise<unknown> {
  return asDependency('writing notification.sent', async () => {
    const commands = [onNotification(latest, NotificationEvent.sent, sentPayload())];
    if (targetSent && (opts.targetChecked || (await targetExists(pool, targetSent)))) commands.push(targetSent);
    const expected = { expected: expectedOf(latest) };
    return opts.batcher ? opts.batcher.push(commands, expected) : push(pool, commands, expected);
  });
}
