/**
 * Pending rows: what the producers enqueued, inserted in one statement per pass
 * (ON CONFLICT DO NOTHING: a notification already in the history is left as it is). Only
 * ids, the request time and the OTP flag for events (the payload is read by the worker);
 * River rows' args also give the user, org, message type and channel.
 */
import type { PendingEntry } from './types.js';

const MAX_ID = 200;

/** The producer's offers (src/producer/enqueue.ts Offer). */
export function pendingFromEvents(
  events: readonly { readonly instanceId: string; readonly aggregateId: string; readonly createdAt: Date; readonly isOTP: boolean }[],
): PendingEntry[] {
  return events.map((e) => ({ source: 'events', id: e.aggregateId, instanceId: e.instanceId, requestedAt: e.createdAt, otp: e.isOTP }));
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, MAX_ID) : undefined);

/** Rows the River producer claimed (src/river/sql.ts RiverJob). */
export function pendingFromRiverJobs(
  jobs: readonly {
    readonly id: string;
    readonly instanceId: string | undefined;
    readonly createdAt: Date;
    readonly isOtp: boolean;
    readonly args: unknown;
  }[],
): PendingEntry[] {
  return jobs.map((j) => {
    const args = typeof j.args === 'object' && j.args !== null ? (j.args as Record<string, unknown>) : {};
    const type = args.notificationType;
    return {
      source: 'river',
      id: j.id,
      instanceId: j.instanceId ?? '',
      requestedAt: j.createdAt,
      otp: j.isOtp,
      orgId: text(args.userResourceOwner),
      userId: text(args.userID),
      messageType: text(args.messageType),
      channel: type === 0 ? 'email' : type === 1 ? 'sms' : undefined,
    };
  });
}
