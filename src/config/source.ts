/** HERALD_SOURCE: where notification requests come from (interface.md "Sources"). */
import type { RawSettings } from './notifications.js';
import { labelled, type Problems } from './problems.js';
import type { SourceConfig } from './types.js';

const SOURCES = ['events', 'river'] as const;

/** `events`, `river` or both (`events,river`, any order). @defaultValue events */
export function checkSource(problems: Problems, value: string | undefined, fromFile: RawSettings, fromEnv: RawSettings): SourceConfig {
  // River mode uses River's default retry policy unless the operator tuned herald's.
  const tuned = (['MinRetryDelay', 'MaxRetryDelay', 'RetryDelayFactor'] as const).some((k) => fromEnv.has(k) || fromFile.has(k));
  const retryPolicy = tuned ? 'herald' : 'river';
  if (value === undefined) return { events: true, river: false, riverRetryPolicy: retryPolicy };
  const parts = value.split(',').map((p) => p.trim().toLowerCase());
  const unknown = parts.filter((p) => !(SOURCES as readonly string[]).includes(p));
  if (unknown.length > 0 || parts.length === 0) {
    problems.add(labelled('HERALD_SOURCE', value), 'must be events, river or events,river');
    return { events: true, river: false, riverRetryPolicy: retryPolicy };
  }
  return { events: parts.includes('events'), river: parts.includes('river'), riverRetryPolicy: retryPolicy };
}
