/**
 * What the delivery pipeline (pipeline.ts) needs from a source of notification requests, and
 * what it reports back. The pipeline is the same for every source; a source supplies
 * - the attempt: the request, which attempt this is, since when it counts against MaxTtl, when
 *   it is due, the user snapshot a retry carries;
 * - its write-back: how "sent", "retry" and "cancel" are recorded.
 * Event mode (ZITADEL v2.66–v2.70, event-source.ts) reads the notification aggregate and writes
 * notification.* events; River mode (ZITADEL v2.71+) reads a `queue.river_job` row and finishes it.
 */
import type { SendResult } from '../channels/types.js';
import type { NotificationRequest, NotifyUser } from '../eventstore/notification-types.js';
import type { EventCommand } from '../eventstore/types.js';
import type { ResultClass } from './result-class.js';

export interface Attempt {
  readonly instanceId: string;
  /** The notification's id in its source (aggregate id, River job id): logs and message ids. */
  readonly notificationId: string;
  readonly request: NotificationRequest;
  /** 1 for the first try. */
  readonly number: number;
  /** The last attempt allowed: a transient failure of this one cancels. */
  readonly maxAttempts: number;
  /** When ZITADEL wrote the request (notification.requested / the River job): latency counts from here. */
  readonly requestedAt: Date;
  /** MaxTtl counts from here (created_at of the request or retry it answers, as in ZITADEL). */
  readonly since: Date;
  /** Not to be tried before this time (epoch ms); 0 when due. */
  readonly dueAt: number;
  /** The user as a retry recorded it (a retry never re-queries the user). */
  readonly snapshot: NotifyUser | undefined;
  /** The delay before this attempt (ms): the retry policy grows it. 0 for the first try. */
  readonly previousDelayMs: number;
  /** The event type an HTTP provider is told it answers (ZITADEL's `eventType` in its body). */
  readonly eventType: string;
  /** Set when an earlier try delivered the message and only its write-back failed. */
  readonly delivered: SendResult | undefined;
}

/**
 * How a source records an outcome. Each method resolves true when written, false when another
 * worker finished the notification first (nothing written); it throws a DependencyError when
 * the store is unavailable.
 */
export interface WriteBack {
  /** Delivered: finish the notification and push the user's/session's `*.sent` event with it. */
  sent(target: EventCommand | undefined, opts: { readonly targetChecked: boolean }): Promise<boolean>;
  /** A transient failure with attempts left: try again after `delayMs`. */
  retry(retry: {
    readonly request: NotificationRequest;
    readonly user: NotifyUser;
    readonly error: string;
    readonly delayMs: number;
  }): Promise<boolean>;
  /** It can never be delivered: finish it with the reason. */
  cancel(error: string): Promise<boolean>;
}

/** What a source found for one job. */
export type Loaded =
  | { readonly kind: 'missing' }
  | { readonly kind: 'finished' }
  /** The request cannot be read (malformed payload): cancel with the error. */
  | { readonly kind: 'malformed'; readonly error: Error; readonly writeBack: WriteBack }
  | { readonly kind: 'attempt'; readonly attempt: Attempt; readonly writeBack: WriteBack };

/**
 * What one attempt did, for the delivery history, the metrics and the outcome log line. Holds
 * no code and no address in clear (the recipient is masked).
 */
export interface AttemptReport {
  /** When ZITADEL wrote the request (epoch ms). */
  readonly requestedAt: number;
  readonly startedAt: number;
  /** When the provider accepted the message, or the attempt ended (epoch ms). */
  readonly finishedAt: number;
  /** The channel's name once picked (smtp, sns, twilio, webhook, http, outbox), else `none`. */
  readonly providerKind: string;
  readonly resultClass: ResultClass;
  /** herald's or a library's symbolic error code (errors.ts errorCode); undefined on success. */
  readonly errorCode: string | undefined;
  readonly providerMessageId: string | undefined;
  readonly otp: boolean;
  /** The recipient, masked (util/mask.ts); undefined when no message was built. */
  readonly recipient: string | undefined;
  /** Whom and what the attempt was for (the delivery history); absent when the request could not be read. */
  readonly ids?: ReportIds;
}

/** The request's coordinates on a report: ids and kinds only, never a code or an address. */
export interface ReportIds {
  readonly instanceId: string;
  /** The notification aggregate id (event mode) or the River job id. */
  readonly notificationId: string;
  readonly orgId: string;
  readonly userId: string;
  readonly messageType: string;
  readonly channel: 'email' | 'sms';
}

/** The ReportIds of a request (notificationType 0 is email, as in ZITADEL's domain.NotificationType). */
export function reportIds(instanceId: string, notificationId: string, request: NotificationRequest): ReportIds {
  return {
    instanceId,
    notificationId,
    orgId: request.userResourceOwner,
    userId: request.userID,
    messageType: request.messageType,
    channel: request.notificationType === 0 ? 'email' : 'sms',
  };
}

/**
 * What one attempt came to. `channel` names the channel that sent or would have sent (its
 * name once picked, else the notification kind `email`/`sms`; `unknown` only when the request
 * could not even be read).
 */
export type Outcome =
  | { readonly kind: 'sent'; readonly attempt: number; readonly channel: string; readonly messageType: string; readonly report: AttemptReport }
  | {
      readonly kind: 'canceled';
      readonly attempt: number;
      readonly channel: string;
      readonly messageType: string;
      readonly error: string;
      readonly report: AttemptReport;
    }
  | {
      readonly kind: 'retry';
      readonly attempt: number;
      readonly channel: string;
      readonly messageType: string;
      readonly delayMs: number;
      readonly error: string;
      readonly report: AttemptReport;
    }
  /** The provider throttled (RateLimitedError): tried again after delayMs without using an attempt. */
  | {
      readonly kind: 'throttled';
      readonly attempt: number;
      readonly channel: string;
      readonly messageType: string;
      readonly delayMs: number;
      readonly error: string;
      readonly report: AttemptReport;
    }
  | { readonly kind: 'not-due'; readonly delayMs: number }
  | { readonly kind: 'finished' }
  | { readonly kind: 'missing' };

export interface AttemptControl {
  readonly signal: AbortSignal;
  /** Remembers (in the job) that the message left, before a failed write-back is retried. */
  markDelivered(result: SendResult): Promise<void>;
  /** True when the attempt was aborted because this process is shutting down. */
  released(): boolean;
}
