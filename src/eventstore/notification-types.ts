/**
 * Payloads of the notification aggregate, with ZITADEL's JSON field names
 * (internal/repository/notification/notification.go; zitadel-facts.md §3).
 */

export const NOTIFICATION_AGGREGATE = 'notification';
export const NOTIFICATION_REVISION = 1;
/** creator written on herald's events (ZITADEL's worker context user). */
export const NOTIFICATION_CREATOR = 'NOTIFICATION';

export const NotificationEvent = {
  requested: 'notification.requested',
  retryRequested: 'notification.retry.requested',
  sent: 'notification.sent',
  canceled: 'notification.canceled',
} as const;

/** crypto.CryptoValue (Go field names; no json tags). */
export interface CryptoValue {
  readonly CryptoType: number;
  readonly Algorithm: string;
  readonly KeyID: string;
  readonly Crypted: string;
}

/** domain.NotificationType: 0 email, 1 SMS. */
export const NotificationType = { email: 0, sms: 1 } as const;
export type NotificationTypeValue = (typeof NotificationType)[keyof typeof NotificationType];

/** domain.NotificationArguments (all omitempty). expiry is nanoseconds. */
export interface NotificationArgs {
  readonly origin?: string;
  readonly domain?: string;
  readonly expiry?: number;
  readonly tempUsername?: string;
  readonly applicationName?: string;
  readonly codeID?: string;
  readonly sessionID?: string;
  readonly authRequestID?: string;
}

/** notification.Request as it appears under "request". Durations are nanoseconds. */
export interface NotificationRequest {
  readonly userID: string;
  readonly userResourceOwner: string;
  readonly notificationAggregateID: string;
  readonly notificationAggregateResourceOwner: string;
  readonly triggeredAtOrigin: string;
  readonly eventType: string;
  readonly messageType: string;
  readonly notificationType: NotificationTypeValue;
  readonly urlTemplate?: string;
  readonly codeExpiry?: number;
  readonly code?: CryptoValue;
  readonly unverifiedNotificationChannel?: boolean;
  readonly isOTP?: boolean;
  readonly RequiresPreviousDomain?: boolean;
  readonly args?: NotificationArgs;
}

/** query.NotifyUser, Go field names (no json tags). */
export interface NotifyUser {
  readonly ID: string;
  readonly CreationDate: string;
  readonly ChangeDate: string;
  readonly ResourceOwner: string;
  readonly Sequence: number;
  /** 0 unspecified, 1 active, 2 inactive, 3 deleted, 4 locked, 5 suspend, 6 initial */
  readonly State: number;
  /** 0 unspecified, 1 human, 2 machine */
  readonly Type: number;
  readonly Username: string;
  readonly LoginNames: readonly string[] | null;
  readonly PreferredLoginName: string;
  readonly FirstName: string;
  readonly LastName: string;
  readonly NickName: string;
  readonly DisplayName: string;
  readonly AvatarKey: string;
  /** BCP-47; "und" when unset. */
  readonly PreferredLanguage: string;
  readonly Gender: number;
  readonly LastEmail: string;
  readonly VerifiedEmail: string;
  readonly LastPhone: string;
  readonly VerifiedPhone: string;
  readonly PasswordSet: boolean;
}

export interface RequestedPayload {
  readonly request: NotificationRequest;
}

export interface RetryRequestedPayload {
  readonly request: NotificationRequest;
  readonly error: string;
  readonly notifyUser: NotifyUser;
  /** nanoseconds */
  readonly backOff: number;
}

export interface CanceledPayload {
  readonly error: string;
}
