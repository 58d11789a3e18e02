/**
 * A circuit breaker per provider lane, in this process (each replica learns on its own; the
 * Redis bucket is what the cluster shares). States:
 * - closed: sends go out; `threshold` consecutive connection failures or timeouts open it;
 * - open: sends fail fast with BreakerOpenError (no attempt used, the job waits the rest of
 *   the cool-down in delayed, holding no worker slot);
 * - half-open (cool-down over): one probe send goes out; success closes, a connection
 *   failure opens again for another cool-down. Other sends keep failing fast meanwhile.
 * Any answer from the provider (accepted, rejected, throttled) counts as "reachable".
 * Pure state plus an injected clock: unit-tested without I/O.
 */
import { BreakerOpenError } from '../errors.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive connection failures/timeouts that open the breaker. @defaultValue 5 */
  readonly threshold?: number;
  /** How long it stays open before a probe. @defaultValue 30 s */
  readonly coolDownMs?: number;
  /** Lanes remembered; the least recently used beyond are forgotten. @defaultValue 1000 */
  readonly maxLanes?: number;
  readonly now?: () => number;
}

interface Lane {
  readonly kind: string;
  failures: number;
  state: BreakerState;
  openedAt: number;
  probing: boolean;
}

export interface Breakers {
  /** Throws BreakerOpenError when the lane's breaker is open (or half-open with its probe out). */
  admit(lane: string, kind: string): void;
  /** The provider answered (accepted, rejected or throttled). */
  answered(lane: string): void;
  /** A connection failure or timeout. */
  failed(lane: string): void;
  /** The admitted send did not reach the provider (herald refused it, or shutdown): the probe is given back. */
  abandon(lane: string): void;
  state(lane: string): BreakerState;
  /** Open (or half-open) breakers by provider kind, for herald_provider_breaker_open. */
  openByKind(): Map<string, number>;
}

export const BREAKER_THRESHOLD = 5;
export const BREAKER_COOL_DOWN_MS = 30_000;
/** While the probe is out, other sends come back after this. */
const PROBE_WAIT_MS = 1000;

export function makeBreakers(opts: BreakerOptions = {}): Breakers {
  const threshold = opts.threshold ?? BREAKER_THRESHOLD;
  const coolDownMs = opts.coolDownMs ?? BREAKER_COOL_DOWN_MS;
  const maxLanes = opts.maxLanes ?? 1000;
  const now = opts.now ?? Date.now;
  const lanes = new Map<string, Lane>();

  function get(id: string, kind = 'none'): Lane {
    let lane = lanes.get(id);
    if (lane) {
      lanes.delete(id);
    } else {
      lane = { kind, failures: 0, state: 'closed', openedAt: 0, probing: false };
    }
    lanes.set(id, lane);
    if (lanes.size > maxLanes) {
      // Forget the least recently used closed lane (an open one keeps protecting).
      for (const [oldId, old] of lanes) {
        if (old.state === 'closed') {
          lanes.delete(oldId);
          break;
        }
      }
    }
    return lane;
  }

  return {
    admit(id, kind) {
      const lane = get(id, kind);
      if (lane.state === 'closed') return;
      const left = lane.openedAt + coolDownMs - now();
      if (lane.state === 'open' && left > 0) {
        throw new BreakerOpenError(`${kind} provider unreachable: circuit breaker open for another ${Math.ceil(left / 1000)} s`, left);
      }
      if (lane.probing) {
        throw new BreakerOpenError(`${kind} provider unreachable: circuit breaker half-open, a probe is out`, PROBE_WAIT_MS);
      }
      lane.state = 'half-open';
      lane.probing = true;
    },
    answered(id) {
      const lane = lanes.get(id);
      if (!lane) return;
      lane.failures = 0;
      lane.state = 'closed';
      lane.probing = false;
    },
    failed(id) {
      const lane = lanes.get(id);
      if (!lane) return;
      lane.failures++;
      if (lane.state === 'half-open' || lane.failures >= threshold) {
        lane.state = 'open';
        lane.openedAt = now();
        lane.probing = false;
      }
    },
    abandon(id) {
      const lane = lanes.get(id);
      if (lane) lane.probing = false;
    },
    state(id) {
      return lanes.get(id)?.state ?? 'closed';
    },
    openByKind() {
      const counts = new Map<string, number>();
      for (const lane of lanes.values()) {
        if (lane.state !== 'closed') counts.set(lane.kind, (counts.get(lane.kind) ?? 0) + 1);
      }
      return counts;
    },
  };
}
