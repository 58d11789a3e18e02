/**
 * The instance-level and org-level halves of InstanceSettings, each folded from its own
 * events (pure), and their merge: org settings win over instance ones where ZITADEL's
 * queries prefer them (label policy, mail template, notification and domain policy).
 */
import type { OrgLoginState } from '../worker/login-names.js';
import { InstanceLoginEvent, OrgLoginEvent, reduceOrgLogin } from '../worker/login-names.js';
import { reduceTextLayer, type TextLayer } from './custom-texts.js';
import type { SettingsEventRow } from './events.js';
import { InstanceEvent, payloadOf, RESTRICTIONS_SET, str } from './events.js';
import { reduceLabelPolicy, reduceMailTemplate, reduceNotificationPolicy } from './policies.js';
import type { RawEmailConfig, RawSmsConfig } from './providers.js';
import { reduceEmailProviders, reduceSmsProviders } from './providers.js';
import type { LabelPolicy } from './types.js';

/** Rows in the shape reduceOrgLogin (worker/login-names.ts) folds. */
export interface LoginRow {
  readonly aggregate_type: string;
  readonly event_type: string;
  readonly payload: unknown;
}

export interface InstanceState {
  readonly removed: boolean;
  readonly email: RawEmailConfig | undefined;
  readonly sms: RawSmsConfig | undefined;
  readonly labelPolicy: LabelPolicy | undefined;
  readonly mailTemplate: string | undefined;
  readonly passwordChange: boolean | undefined;
  readonly defaultLanguage: string | undefined;
  readonly allowedLanguages: readonly string[];
  readonly primaryDomain: string | undefined;
  /** The instance's domain policy events, merged with the org's at get time. */
  readonly loginRows: readonly LoginRow[];
  /** The instance's custom message texts. */
  readonly texts: TextLayer;
}

export interface OrgState {
  readonly labelPolicy: LabelPolicy | undefined;
  readonly mailTemplate: string | undefined;
  readonly passwordChange: boolean | undefined;
  readonly loginRows: readonly LoginRow[];
  /** The org's custom message texts. */
  readonly texts: TextLayer;
}

const INSTANCE_LOGIN_TYPES: ReadonlySet<string> = new Set(Object.values(InstanceLoginEvent));
const ORG_LOGIN_TYPES: ReadonlySet<string> = new Set(Object.values(OrgLoginEvent));

const toLoginRow = (row: SettingsEventRow): LoginRow => ({
  aggregate_type: row.aggregateType,
  event_type: row.eventType,
  payload: row.payload,
});

/** restrictions.set: a present list replaces the allowed languages; [] means all of them. */
function allowedLanguagesOf(rows: readonly SettingsEventRow[]): string[] {
  let allowed: string[] = [];
  for (const row of rows) {
    if (row.eventType !== RESTRICTIONS_SET) continue;
    const list = payloadOf(row).allowedLanguages;
    if (Array.isArray(list)) allowed = list.filter((l): l is string => typeof l === 'string' && l !== '');
  }
  return allowed;
}

/** Folds the instance aggregate's and the restrictions aggregate's settings events. */
export function reduceInstanceSettings(instanceId: string, rows: readonly SettingsEventRow[]): InstanceState {
  const instanceRows = rows.filter((r) => r.aggregateType === 'instance');
  let removed = false;
  let defaultLanguage: string | undefined;
  let primaryDomain: string | undefined;
  for (const row of instanceRows) {
    const p = payloadOf(row);
    switch (row.eventType) {
      case InstanceEvent.removed:
        removed = true;
        break;
      case InstanceEvent.defaultLanguageSet:
        defaultLanguage = str(p, 'language') || defaultLanguage;
        break;
      case InstanceEvent.domainPrimarySet:
        primaryDomain = str(p, 'domain') || primaryDomain;
        break;
      case InstanceEvent.domainRemoved:
        if (str(p, 'domain') === primaryDomain) primaryDomain = undefined;
        break;
    }
  }
  return {
    removed,
    email: reduceEmailProviders(instanceId, instanceRows),
    sms: reduceSmsProviders(instanceRows),
    labelPolicy: reduceLabelPolicy(instanceRows, 'instance'),
    mailTemplate: reduceMailTemplate(instanceRows),
    passwordChange: reduceNotificationPolicy(instanceRows),
    defaultLanguage,
    allowedLanguages: allowedLanguagesOf(rows.filter((r) => r.aggregateType === 'restrictions')),
    primaryDomain,
    loginRows: instanceRows.filter((r) => INSTANCE_LOGIN_TYPES.has(r.eventType)).map(toLoginRow),
    texts: reduceTextLayer(instanceRows),
  };
}

/** Folds one org's settings events. */
export function reduceOrgSettings(rows: readonly SettingsEventRow[]): OrgState {
  const orgRows = rows.filter((r) => r.aggregateType === 'org');
  return {
    labelPolicy: reduceLabelPolicy(orgRows, 'org'),
    mailTemplate: reduceMailTemplate(orgRows),
    passwordChange: reduceNotificationPolicy(orgRows),
    loginRows: orgRows.filter((r) => ORG_LOGIN_TYPES.has(r.eventType)).map(toLoginRow),
    texts: reduceTextLayer(orgRows),
  };
}

export interface MergedPolicies {
  readonly branding: LabelPolicy | undefined;
  readonly mailTemplate: string | undefined;
  readonly passwordChangeNotify: boolean;
  readonly login: OrgLoginState;
}

/** Org over instance; a notification policy nowhere means ZITADEL's default (true). */
export function mergePolicies(instance: InstanceState, org: OrgState): MergedPolicies {
  return {
    branding: org.labelPolicy ?? instance.labelPolicy,
    mailTemplate: org.mailTemplate ?? instance.mailTemplate,
    passwordChangeNotify: org.passwordChange ?? instance.passwordChange ?? true,
    login: reduceOrgLogin([...instance.loginRows, ...org.loginRows]),
  };
}
