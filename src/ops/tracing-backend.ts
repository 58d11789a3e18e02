/**
 * What the OpenTelemetry side (otel.ts, loaded only when tracing is on) gives tracing.ts: its
 * own file so that the two never import each other.
 */
import type { Telemetry } from 'bullmq';

/** Attribute values herald sets: bounded strings and numbers, never a code or an address. */
export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** What the SDK side (otel.ts) provides. */
export interface TracingBackend {
  /** BullMQ's `telemetry` option for the workers. */
  readonly telemetry: Telemetry;
  /** Sets attributes on the active span (inside a worker's processor: BullMQ's process span). */
  annotate(attributes: SpanAttributes): void;
  /** Runs `fn` in a child span of the active span. */
  inSpan<T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>): Promise<T>;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}
