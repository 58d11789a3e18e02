/**
 * `river_job.args` of kind `notification_request` (ZITADEL's notification.Request since
 * v2.71, JSON names as Go writes them) → herald's NotificationRequest. Strict about types
 * and required fields — a malformed row can never be delivered and is cancelled with the
 * reason — and lenient about unknown keys (later ZITADEL versions may add some).
 */
import { z } from 'zod';

import { MessageTypes } from '../content/types.js';
import { PermanentError } from '../errors.js';
import { MAX_PAYLOAD_STRING, notificationArgsSchema } from '../eventstore/notification.js';
import type { NotificationRequest } from '../eventstore/notification-types.js';

const str = z.string().max(MAX_PAYLOAD_STRING, `longer than ${MAX_PAYLOAD_STRING} characters`);
const required = str.min(1, 'must not be empty');
const opt = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

const aggregate = z.object({
  id: required,
  type: opt(str),
  resourceOwner: str.default(''),
  instanceId: required,
  version: opt(str),
});

const cryptoValue = z.object({ CryptoType: z.int(), Algorithm: str, KeyID: str, Crypted: required });

const riverArgs = z.object(
  {
    aggregate,
    userID: required,
    userResourceOwner: str.default(''),
    triggeredAtOrigin: str.default(''),
    eventType: required,
    messageType: z.enum(MessageTypes, { error: `must be one of ${MessageTypes.join(', ')}` }),
    notificationType: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 (email) or 1 (SMS)' }),
    urlTemplate: opt(str),
    codeExpiry: opt(z.int()),
    code: opt(cryptoValue),
    unverifiedNotificationChannel: opt(z.boolean()),
    isOTP: opt(z.boolean()),
    requiresPreviousDomain: opt(z.boolean()),
    args: opt(notificationArgsSchema),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'args must be a JSON object' : undefined) },
);

/** The aggregate of the triggering event: where the sent event goes. */
export interface RiverAggregate {
  readonly id: string;
  readonly type: string | undefined;
  readonly resourceOwner: string;
  readonly instanceId: string;
}

export interface RiverRequest {
  readonly aggregate: RiverAggregate;
  readonly request: NotificationRequest;
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** @throws PermanentError (code MALFORMED_ARGS) naming every problem, e.g. `args.code.Crypted: must not be empty`. */
export function parseRiverArgs(value: unknown): RiverRequest {
  const parsed = riverArgs.safeParse(value);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((i) => `${['args', ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
    throw new PermanentError('MALFORMED_ARGS', `malformed notification_request args: ${reasons}`, { cause: parsed.error });
  }
  const { aggregate: agg, requiresPreviousDomain, args: a, ...rest } = parsed.data;
  const request: NotificationRequest = compact({
    ...rest,
    // The sent event goes on the triggering aggregate (user, or session for session OTPs).
    notificationAggregateID: agg.id,
    notificationAggregateResourceOwner: agg.resourceOwner,
    RequiresPreviousDomain: requiresPreviousDomain,
    args: a === undefined ? undefined : compact(a),
  });
  return { aggregate: { id: agg.id, type: agg.type, resourceOwner: agg.resourceOwner, instanceId: agg.instanceId }, request };
}
