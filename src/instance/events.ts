/**
 * The event types behind an instance's notification settings (zitadel-config-events.md
 * §1–§7) and the SQL that reads them. Every statement pins instance_id, aggregate_type and
 * event_type (and aggregate_id where it is known), so it is answered from ZITADEL's es_wm
 * or es_projection index instead of scanning the large instance aggregate.
 */
import { InstanceLoginEvent, OrgLoginEvent } from './login-names.js';

const LABEL_SUFFIXES = [
  'added',
  'changed',
  'activated',
  'logo.added',
  'logo.removed',
  'icon.added',
  'icon.removed',
  'logo.dark.added',
  'logo.dark.removed',
  'icon.dark.added',
  'icon.dark.removed',
  'font.added',
  'font.removed',
  'assets.removed',
] as const;
export type LabelEventSuffix = (typeof LABEL_SUFFIXES)[number];

export const SmtpEvent = {
  added: 'instance.smtp.config.added',
  changed: 'instance.smtp.config.changed',
  passwordChanged: 'instance.smtp.config.password.changed',
  httpAdded: 'instance.smtp.config.http.added',
  httpChanged: 'instance.smtp.config.http.changed',
  activated: 'instance.smtp.config.activated',
  deactivated: 'instance.smtp.config.deactivated',
  removed: 'instance.smtp.config.removed',
} as const;

/** The prefix is "sms.config" without a trailing dot, so the verbs run together. */
export const SmsEvent = {
  twilioAdded: 'instance.sms.configtwilio.added',
  twilioChanged: 'instance.sms.configtwilio.changed',
  twilioTokenChanged: 'instance.sms.configtwilio.token.changed',
  httpAdded: 'instance.sms.confighttp.added',
  httpChanged: 'instance.sms.confighttp.changed',
  activated: 'instance.sms.configactivated',
  deactivated: 'instance.sms.configdeactivated',
  removed: 'instance.sms.configremoved',
  legacyActivated: 'instance.sms.configtwilio.activated',
  legacyDeactivated: 'instance.sms.configtwilio.deactivated',
  legacyRemoved: 'instance.sms.configtwilio.removed',
} as const;

export const InstanceEvent = {
  removed: 'instance.removed',
  defaultLanguageSet: 'instance.default.language.set',
  domainPrimarySet: 'instance.domain.primary.set',
  domainRemoved: 'instance.domain.removed',
  mailTemplateAdded: 'instance.mail.template.added',
  mailTemplateChanged: 'instance.mail.template.changed',
  notificationPolicyAdded: 'instance.policy.notification.added',
  notificationPolicyChanged: 'instance.policy.notification.changed',
} as const;

export const OrgEvent = {
  labelPolicyRemoved: 'org.policy.label.removed',
  mailTemplateAdded: 'org.mail.template.added',
  mailTemplateChanged: 'org.mail.template.changed',
  mailTemplateRemoved: 'org.mail.template.removed',
  notificationPolicyAdded: 'org.policy.notification.added',
  notificationPolicyChanged: 'org.policy.notification.changed',
  notificationPolicyRemoved: 'org.policy.notification.removed',
} as const;

export const RESTRICTIONS_SET = 'restrictions.set';

/** Custom message texts (folded in custom-texts.ts); `*.removed` clears them too. */
export const CUSTOM_TEXT_EVENTS = {
  instance: ['instance.customtext.set', 'instance.customtext.removed', 'instance.customtext.template.removed'],
  org: ['org.customtext.set', 'org.customtext.removed', 'org.customtext.template.removed'],
} as const;

/** `<prefix>.policy.label.<suffix>` → suffix, for both aggregates. */
export function labelEventSuffix(eventType: string): LabelEventSuffix | undefined {
  const m = /^(?:instance|org)\.policy\.label\.(.+)$/.exec(eventType);
  const suffix = m?.[1];
  return (LABEL_SUFFIXES as readonly string[]).includes(suffix ?? '') ? (suffix as LabelEventSuffix) : undefined;
}

export const INSTANCE_EVENT_TYPES: readonly string[] = Object.freeze([
  ...Object.values(SmtpEvent),
  ...Object.values(SmsEvent),
  ...Object.values(InstanceEvent),
  ...Object.values(InstanceLoginEvent),
  ...LABEL_SUFFIXES.map((s) => `instance.policy.label.${s}`),
  ...CUSTOM_TEXT_EVENTS.instance,
]);

export const RESTRICTIONS_EVENT_TYPES: readonly string[] = Object.freeze([RESTRICTIONS_SET]);

export const ORG_EVENT_TYPES: readonly string[] = Object.freeze([
  ...Object.values(OrgEvent),
  ...Object.values(OrgLoginEvent),
  ...LABEL_SUFFIXES.map((s) => `org.policy.label.${s}`),
  ...CUSTOM_TEXT_EVENTS.org,
]);

/**
 * The cheap change check run on every get: count and max(position) per source. Position
 * alone is not enough: a transaction that commits late can carry a position below one
 * already seen, but it always raises the count (events are append-only).
 * $1 instance id, $2 instance event types, $3 restrictions event types, $4 org id, $5 org event types.
 */
export const selectSettingsVersionSql = `SELECT
  (SELECT count(*) || '/' || COALESCE(max("position")::TEXT, '')
     FROM eventstore.events2
    WHERE aggregate_id = $1 AND instance_id = $1 AND aggregate_type = 'instance' AND event_type = ANY($2::TEXT[]))
  || '|' ||
  (SELECT count(*) || '/' || COALESCE(max("position")::TEXT, '')
     FROM eventstore.events2
    WHERE instance_id = $1 AND aggregate_type = 'restrictions' AND event_type = ANY($3::TEXT[])) AS instance_version,
  (SELECT count(*) || '/' || COALESCE(max("position")::TEXT, '')
     FROM eventstore.events2
    WHERE aggregate_id = $4 AND instance_id = $1 AND aggregate_type = 'org' AND event_type = ANY($5::TEXT[])) AS org_version`;

const ROW_COLUMNS = `aggregate_type AS "aggregateType", aggregate_id AS "aggregateId", event_type AS "eventType",
  payload, "owner", "sequence"`;

/** Custom texts of message templates only (login UI texts share the event types and can be many). */
const TEXTS_OF = (templates: string) => `(event_type NOT LIKE '%.customtext.%' OR COALESCE(payload->>'template', '') = ANY(${templates}::TEXT[]))`;

/**
 * The instance aggregate's and the restrictions aggregate's settings events, each in sequence
 * order. $1 instance id, $2 instance event types, $3 restrictions event types, $4 text templates.
 */
export const selectInstanceSettingsEventsSql = `(SELECT ${ROW_COLUMNS}
   FROM eventstore.events2
  WHERE aggregate_id = $1 AND instance_id = $1 AND aggregate_type = 'instance' AND event_type = ANY($2::TEXT[])
    AND ${TEXTS_OF('$4')})
UNION ALL
(SELECT ${ROW_COLUMNS}
   FROM eventstore.events2
  WHERE instance_id = $1 AND aggregate_type = 'restrictions' AND event_type = ANY($3::TEXT[]))
ORDER BY "aggregateType", "aggregateId", "sequence"`;

/** One org's settings events in sequence order. $1 instance id, $2 org id, $3 event types, $4 text templates. */
export const selectOrgSettingsEventsSql = `SELECT ${ROW_COLUMNS}
   FROM eventstore.events2
  WHERE aggregate_id = $2 AND instance_id = $1 AND aggregate_type = 'org' AND event_type = ANY($3::TEXT[])
    AND ${TEXTS_OF('$4')}
  ORDER BY "sequence"`;

/** The subset of StoredEvent the reducers read; StoredEvent rows satisfy it. */
export interface SettingsEventRow {
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly eventType: string;
  readonly payload: unknown;
  readonly owner: string;
}

type Payload = Readonly<Record<string, unknown>>;

export function payloadOf(row: SettingsEventRow): Payload {
  const p = row.payload;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Payload) : {};
}

export function str(p: Payload, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' ? v : undefined;
}

export function bool(p: Payload, key: string): boolean | undefined {
  const v = p[key];
  return typeof v === 'boolean' ? v : undefined;
}
