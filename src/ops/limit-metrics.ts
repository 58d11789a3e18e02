/**
 * The tenant limits' metrics (issue #15), read from their counters on scrape. Channel names
 * become the same bounded provider kinds as in herald_provider_results_total (`http-email`
 * and `http-sms` are `http`).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

import type { LimitsStats } from '../limits/guard.js';
import { PROVIDER_KINDS, type ProviderKind, providerKindOf } from './provider-kind.js';

/** Counts by channel name, summed per provider kind; every kind present (0 when none). */
function byProviderKind(byName: ReadonlyMap<string, number>): Map<ProviderKind, number> {
  const out = new Map<ProviderKind, number>(PROVIDER_KINDS.map((k) => [k, 0]));
  for (const [name, n] of byName) {
    const kind = providerKindOf(name);
    out.set(kind, (out.get(kind) ?? 0) + n);
  }
  return out;
}

export function registerLimitMetrics(registry: Registry, stats: LimitsStats): void {
  new Gauge({
    name: 'herald_provider_breaker_open',
    help: 'Providers whose circuit breaker is open (or half-open) in this process, by provider kind',
    labelNames: ['provider_kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of byProviderKind(stats.breakerOpen())) this.set({ provider_kind: kind }, n);
    },
  });
  new Counter({
    name: 'herald_provider_throttled_total',
    help: 'Provider answers that said "slow down" (each slows that provider\'s lane), by provider kind',
    labelNames: ['provider_kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of byProviderKind(stats.throttled)) if (n > 0) this.inc({ provider_kind: kind }, n);
    },
  });
  new Counter({
    name: 'herald_recipient_limit_canceled_total',
    help: 'Notifications canceled by the flood guard (HERALD_RECIPIENT_LIMIT), by message type',
    labelNames: ['message_type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, n] of stats.recipientCanceled) this.inc({ message_type: type }, n);
    },
  });
  new Counter({
    name: 'herald_instance_concurrency_deferred_total',
    help: 'Jobs moved back to delayed because their instance was at HERALD_INSTANCE_CONCURRENCY in this process',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.deferred);
    },
  });
}
