/** Provider kinds as metric labels: a bounded set, shared by the outcome and the tenant-limit metrics. */
export const PROVIDER_KINDS = ['smtp', 'sns', 'twilio', 'webhook', 'http', 'outbox', 'none', 'other'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** `http-email` / `http-sms` (ZITADEL's HTTP providers) are `http`; unknown names are `other`. */
export function providerKindOf(name: string): ProviderKind {
  if (name === 'http-email' || name === 'http-sms') return 'http';
  return (PROVIDER_KINDS as readonly string[]).includes(name) ? (name as ProviderKind) : 'other';
}
