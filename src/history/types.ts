/**
 * The delivery history's vocabulary: one row per notification in `herald.deliveries`
 * (migration 2, src/eventstore/migrations.ts), keyed by its source, its id there and its
 * instance. Rows hold ids, kinds, classes, times, a masked recipient and a sanitised reason:
 * never a code, never a full address.
 */
import type { ResultClass } from '../worker/result-class.js';

/** Where the notification came from: `notification.*` events or River jobs. */
export const SOURCES = ['events', 'river'] as const;
export type DeliverySource = (typeof SOURCES)[number];

/**
 * - pending: enqueued, not worked yet;
 * - retrying: an attempt failed (or was throttled) and another one will follow;
 * - sent / canceled: finished (River's `discarded` counts as canceled).
 */
export const STATES = ['pending', 'retrying', 'sent', 'canceled'] as const;
export type DeliveryState = (typeof STATES)[number];
export const FINAL_STATES: readonly DeliveryState[] = ['sent', 'canceled'];

/** Attempt lines kept per notification (the oldest go first). */
export const MAX_ATTEMPT_LOG = 25;

/** One attempt in a row's `attempt_log` (times in epoch ms). */
export interface AttemptLine {
  /** The attempt's number as the source counts it (ZITADEL's sequence-based count, River's `attempt`). */
  readonly attempt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly providerKind: string;
  readonly resultClass: ResultClass;
  readonly errorCode: string | null;
}

/** What one outcome adds to the history (HistoryWriter.record). */
export interface HistoryEntry {
  readonly source: DeliverySource;
  readonly id: string;
  readonly instanceId: string;
  readonly orgId?: string | undefined;
  readonly userId?: string | undefined;
  readonly messageType?: string | undefined;
  readonly channel?: 'email' | 'sms' | undefined;
  readonly providerKind?: string | undefined;
  /** Already masked (AttemptReport.recipient). */
  readonly recipient?: string | undefined;
  readonly state: DeliveryState;
  readonly line?: AttemptLine | undefined;
  /** Sends this entry adds to `attempts` (0 or 1): times a provider was asked to take the message. */
  readonly sends: number;
  readonly resultClass?: ResultClass | undefined;
  readonly errorCode?: string | undefined;
  /** Sanitised (errors.ts sanitizeText), at most 300 characters. */
  readonly reason?: string | undefined;
  readonly providerMessageId?: string | undefined;
  readonly otp: boolean;
  /** When ZITADEL wrote the request (epoch ms). */
  readonly requestedAt: number;
  readonly finishedAt?: number | undefined;
  /** ZITADEL's event → the provider's acceptance (ms), on sent. */
  readonly latencyMs?: number | undefined;
}

/** A notification the producer enqueued: inserted as `pending` unless already known. */
export interface PendingEntry {
  readonly source: DeliverySource;
  readonly id: string;
  readonly instanceId: string;
  readonly requestedAt: Date;
  readonly otp: boolean;
  readonly orgId?: string | undefined;
  readonly userId?: string | undefined;
  readonly messageType?: string | undefined;
  readonly channel?: 'email' | 'sms' | undefined;
}

/** A row as the CLI and the API show it (times as ISO strings). */
export interface Delivery {
  readonly id: string;
  readonly source: DeliverySource;
  readonly instanceId: string;
  readonly orgId: string | null;
  readonly userId: string | null;
  readonly messageType: string | null;
  readonly channel: string | null;
  readonly providerKind: string | null;
  readonly recipient: string | null;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly resultClass: string | null;
  readonly errorCode: string | null;
  readonly reason: string | null;
  readonly providerMessageId: string | null;
  readonly otp: boolean;
  readonly requestedAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  readonly latencyMs: number | null;
}

/** One attempt as the CLI and the API show it. */
export interface DeliveryAttempt {
  readonly attempt: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly providerKind: string;
  readonly resultClass: string;
  readonly errorCode: string | null;
}

export interface DeliveryDetail extends Delivery {
  readonly timeline: readonly DeliveryAttempt[];
}
