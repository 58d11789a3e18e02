/** Queue names, job ids and job data: what herald keeps in Redis (never a code or address). */

export const QUEUE = {
  /** notification.requested events, and herald's own retries of them (BullMQ delayed retries). */
  requests: 'notification-requests',
  /** notification.retry.requested events written by someone else (ZITADEL before the switch-over). */
  retries: 'notification-retries',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

/** Job name: which event the job was made from. */
export const JOB_KIND = { requested: 'requested', retry: 'retry' } as const;
export type JobKind = (typeof JOB_KIND)[keyof typeof JOB_KIND];

/**
 * Job data: a pointer to the event, nothing else. The worker reads the request (and its
 * encrypted code) from the eventstore, so Redis and the dashboard never hold a secret.
 */
export interface NotificationJobData {
  readonly instanceId: string;
  readonly aggregateId: string;
  /** Sequence of the event the job was made from (requested = 1). */
  readonly sequence: number;
  /** Set once the message has left, when writing the outcome failed: never send twice. */
  readonly delivered?: { readonly at: string; readonly generatorInfo?: { id?: string; verificationId?: string } };
}

/**
 * Idempotent job id from (instance, aggregate id, sequence). BullMQ forbids ':' and pure
 * integers in custom ids; the parts are URI-encoded and joined with '/'.
 */
export function jobIdFor(instanceId: string, aggregateId: string, sequence: number): string {
  return `${encodeURIComponent(instanceId)}/${encodeURIComponent(aggregateId)}/${sequence}`;
}

/** BullMQ priority: 1 is served first. OTP and other short-lived codes go before bulk mail. */
export const PRIORITY = { otp: 1, normal: 10 } as const;
