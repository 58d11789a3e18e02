export {
  CREATE_HERALD_POSITION_INDEX,
  HERALD_POSITION_INDEX,
  HERALD_STEPS,
  type MigrationStep,
  NOTIFY_CHANNEL,
  NOTIFY_TRIGGER,
} from './migrations.js';
export {
  canceledPayload,
  MAX_PAYLOAD_STRING,
  parseRequestedPayload,
  parseRetryPayload,
  requestedPayload,
  retryPayload,
  sentPayload,
} from './notification.js';
export type {
  CanceledPayload,
  CryptoValue,
  NotificationArgs,
  NotificationRequest,
  NotificationTypeValue,
  NotifyUser,
  RequestedPayload,
  RetryRequestedPayload,
} from './notification-types.js';
export { NOTIFICATION_AGGREGATE, NOTIFICATION_CREATOR, NOTIFICATION_REVISION, NotificationEvent, NotificationType } from './notification-types.js';
export { makePool, type PoolOptions, withTransaction } from './pool.js';
export { hasPushFunction, push, PUSHER_APPLICATION_PREFIX, type PushOptions } from './push.js';
export { EVENT_COLUMNS, type EventFilter, type EventRow, mapEventRow, readAggregate, readEvents, readEventsSql } from './read.js';
export { migrate, type MigrateOptions } from './schema.js';
export type { AggregateRef, EventCommand, ExpectedSequence, Queryable, StoredEvent } from './types.js';
