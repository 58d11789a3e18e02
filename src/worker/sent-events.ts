/**
 * After a successful send ZITADEL writes a "sent" event on the user or session that
 * triggered the notification (zitadel-facts.md §4). This table maps the trigger event type
 * to that event; a trigger type missing here has no sent handler in ZITADEL (the v1 types),
 * and ZITADEL cancels such notifications.
 */
import { NOTIFICATION_CREATOR, type NotificationRequest } from '../eventstore/notification-types.js';
import type { EventCommand } from '../eventstore/types.js';

/**
 * Revisions are the aggregates' Go AggregateVersion without the "v": the user aggregate is
 * "v2" (internal/repository/user/aggregate.go), the session aggregate "v1".
 */
export const USER_REVISION = 2;
export const SESSION_REVISION = 1;

/** What the channel reported; Twilio Verify fills these. */
export interface SendOutcome {
  readonly generatorInfo?: { readonly id?: string; readonly verificationId?: string };
}

/** How the sent event's payload is built (the Go event structs' JSON). */
export const SentPayload = {
  /** Payload() returns nil → SQL NULL. */
  none: 'none',
  /** A struct with only `json:"-"` fields → {}. */
  empty: 'empty',
  /** {"generatorInfo": {…}}; the worker always passes a non-nil struct, so at least {}. */
  generatorInfo: 'generatorInfo',
  /** {"id": "<codeID>"} (passwordless registration; no omitempty). */
  codeId: 'codeId',
} as const;
export type SentPayloadKind = (typeof SentPayload)[keyof typeof SentPayload];

export interface SentEventSpec {
  readonly aggregateType: 'user' | 'session';
  readonly eventType: string;
  readonly revision: number;
  readonly payload: SentPayloadKind;
}

const user = (eventType: string, payload: SentPayloadKind): SentEventSpec => ({
  aggregateType: 'user',
  eventType,
  revision: USER_REVISION,
  payload,
});
const session = (eventType: string, payload: SentPayloadKind): SentEventSpec => ({
  aggregateType: 'session',
  eventType,
  revision: SESSION_REVISION,
  payload,
});

/** Trigger event type → sent event. Keyed by the human/session types only, as ZITADEL's registry is. */
export const SENT_EVENTS: ReadonlyMap<string, SentEventSpec> = new Map([
  ['user.human.initialization.code.added', user('user.human.initialization.code.sent', SentPayload.none)],
  ['user.human.email.code.added', user('user.human.email.code.sent', SentPayload.none)],
  ['user.human.password.code.added', user('user.human.password.code.sent', SentPayload.generatorInfo)],
  ['user.human.phone.code.added', user('user.human.phone.code.sent', SentPayload.generatorInfo)],
  ['user.human.mfa.otp.sms.code.added', user('user.human.mfa.otp.sms.code.sent', SentPayload.generatorInfo)],
  ['user.human.mfa.otp.email.code.added', user('user.human.mfa.otp.email.code.sent', SentPayload.empty)],
  ['session.otp.sms.challenged', session('session.otp.sms.sent', SentPayload.generatorInfo)],
  ['session.otp.email.challenged', session('session.otp.email.sent', SentPayload.empty)],
  ['user.domain.claimed', user('user.domain.claimed.sent', SentPayload.none)],
  ['user.human.passwordless.initialization.code.requested', user('user.human.passwordless.initialization.code.sent', SentPayload.codeId)],
  ['user.human.password.changed', user('user.human.password.change.sent', SentPayload.none)],
  ['user.human.invite.code.added', user('user.human.invite.code.sent', SentPayload.none)],
]);

/** v1 trigger types ZITADEL still requests notifications for, but has no sent handler for. */
export const V1_TRIGGER_TYPES: readonly string[] = Object.freeze([
  'user.initialization.code.added',
  'user.email.code.added',
  'user.password.code.added',
  'user.phone.code.added',
]);

/** Every trigger event type of §4: those with a sent event, then the v1 ones. */
export const KNOWN_TRIGGER_TYPES: readonly string[] = Object.freeze([...SENT_EVENTS.keys(), ...V1_TRIGGER_TYPES]);

/** senders.CodeGeneratorInfo: both fields omitempty. */
function generatorInfoJson(info: SendOutcome['generatorInfo']): Record<string, string> {
  const out: Record<string, string> = {};
  if (info?.id) out.id = info.id;
  if (info?.verificationId) out.verificationId = info.verificationId;
  return out;
}

function payloadFor(kind: SentPayloadKind, request: NotificationRequest, result: SendOutcome): unknown {
  switch (kind) {
    case SentPayload.none:
      return null;
    case SentPayload.empty:
      return {};
    case SentPayload.generatorInfo:
      return { generatorInfo: generatorInfoJson(result.generatorInfo) };
    case SentPayload.codeId:
      return { id: request.args?.codeID ?? '' };
  }
}

/**
 * The command to push once the message went out, or undefined when ZITADEL has no sent
 * handler for the trigger type. The target is the request's notification aggregate
 * (the session, for session triggers) or else the user.
 */
export function sentEventFor(instanceId: string, request: NotificationRequest, result: SendOutcome): EventCommand | undefined {
  const spec = SENT_EVENTS.get(request.eventType);
  if (!spec) return undefined;
  return {
    instanceId,
    aggregateType: spec.aggregateType,
    aggregateId: request.notificationAggregateID || request.userID,
    eventType: spec.eventType,
    revision: spec.revision,
    payload: payloadFor(spec.payload, request, result),
    creator: NOTIFICATION_CREATOR,
    owner: request.notificationAggregateResourceOwner || request.userResourceOwner,
  };
}
