/**
 * The notification aggregate's payloads: parsing what ZITADEL (or anyone with write access
 * to events2) stored, and building what herald writes, with ZITADEL's JSON field names
 * (zitadel-facts.md §3).
 *
 * Parsing is strict about types and required fields — a malformed request can never be
 * delivered, so it is a PermanentError — and lenient about unknown fields, which later
 * ZITADEL versions add (they are dropped, as Go's json.Unmarshal drops them).
 */
import { z } from 'zod';

import { PermanentError } from '../errors.js';
import type { CanceledPayload, NotificationRequest, NotifyUser, RequestedPayload, RetryRequestedPayload } from './notification-types.js';

/** Longest accepted string field; anything bigger is not a real ZITADEL payload. */
export const MAX_PAYLOAD_STRING = 64 * 1024;
const MAX_LIST = 1000;

const str = z.string().max(MAX_PAYLOAD_STRING, `longer than ${MAX_PAYLOAD_STRING} characters`);
const required = str.min(1, 'must not be empty');
/** Go writes omitempty fields as absent; null is accepted and treated the same. */
const opt = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

const cryptoValue = z.object({
  CryptoType: z.int(),
  Algorithm: str,
  KeyID: str,
  Crypted: str,
});

/** ZITADEL's notification Args (`origin`, `domain`, …), shared by event and River payloads. */
export const notificationArgsSchema = z.object({
  origin: opt(str),
  domain: opt(str),
  expiry: opt(z.int()),
  tempUsername: opt(str),
  applicationName: opt(str),
  codeID: opt(str),
  sessionID: opt(str),
  authRequestID: opt(str),
});

const request = z.object({
  userID: required,
  userResourceOwner: str,
  // Always written by ZITADEL ("" when the user is the target aggregate); tolerated if absent.
  notificationAggregateID: str.default(''),
  notificationAggregateResourceOwner: str.default(''),
  triggeredAtOrigin: str.default(''),
  eventType: required,
  messageType: required,
  notificationType: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 (email) or 1 (SMS)' }),
  urlTemplate: opt(str),
  codeExpiry: opt(z.int()),
  code: opt(cryptoValue),
  unverifiedNotificationChannel: opt(z.boolean()),
  isOTP: opt(z.boolean()),
  RequiresPreviousDomain: opt(z.boolean()),
  args: opt(notificationArgsSchema),
});

/** query.NotifyUser has no omitempty: missing fields get Go's zero values, as Unmarshal does. */
const notifyUser = z.object({
  ID: required,
  CreationDate: str.default(''),
  ChangeDate: str.default(''),
  ResourceOwner: str.default(''),
  Sequence: z.number().default(0),
  State: z.int().default(0),
  Type: z.int().default(0),
  Username: str.default(''),
  LoginNames: z.array(str).max(MAX_LIST).nullable().default(null),
  PreferredLoginName: str.default(''),
  FirstName: str.default(''),
  LastName: str.default(''),
  NickName: str.default(''),
  DisplayName: str.default(''),
  AvatarKey: str.default(''),
  PreferredLanguage: str.default('und'),
  Gender: z.int().default(0),
  LastEmail: str.default(''),
  VerifiedEmail: str.default(''),
  LastPhone: str.default(''),
  VerifiedPhone: str.default(''),
  PasswordSet: z.boolean().default(false),
});

const requestedSchema = z.object({ request });

const retryPayloadSchema = z.object({
  request,
  error: str.default(''),
  notifyUser,
  backOff: z.int().nonnegative().default(0),
});

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'payload'}: ${issue.message}`).join('; ');
}

/** Drops keys whose value is undefined, so parsed objects compare and serialise like the JSON. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function toRequest(parsed: z.infer<typeof request>): NotificationRequest {
  const { args: a, ...rest } = parsed;
  return compact({ ...rest, args: a === undefined ? undefined : compact(a) });
}

function parse<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    throw new PermanentError('MALFORMED_PAYLOAD', `malformed ${what} payload: ${describe(result.error)}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** The request inside a notification.requested payload. */
export function parseRequestedPayload(payload: unknown): NotificationRequest {
  return toRequest(parse(requestedSchema, payload, 'notification.requested').request);
}

/** A notification.retry.requested payload. */
export function parseRetryPayload(payload: unknown): RetryRequestedPayload {
  const parsed = parse(retryPayloadSchema, payload, 'notification.retry.requested');
  return { ...parsed, request: toRequest(parsed.request) };
}

/** notification.requested, as ZITADEL's user notifier writes it (demo and tests). */
export function requestedPayload(req: NotificationRequest): RequestedPayload {
  return { request: compact({ ...req }) };
}

/** notification.sent: ZITADEL's payload struct has only a `json:"-"` field, so `{}`. */
export function sentPayload(): Record<string, never> {
  return {};
}

/** notification.canceled; ZITADEL writes "" when there is no error. */
export function canceledPayload(error: string): CanceledPayload {
  return { error };
}

/**
 * notification.retry.requested. Unlike ZITADEL, the request keeps RequiresPreviousDomain
 * (eventstore.md "Differences from ZITADEL").
 */
export function retryPayload(req: NotificationRequest, error: string, user: NotifyUser, backOffNs: number): RetryRequestedPayload {
  if (!Number.isSafeInteger(backOffNs) || backOffNs < 0) {
    throw new RangeError(`backOff must be a non-negative integer of nanoseconds, got ${backOffNs}`);
  }
  return { request: compact({ ...req }), error, notifyUser: user, backOff: backOffNs };
}
