export { assetUrl, brandingFor, ZITADEL_DEFAULT_FONT_FAMILY } from './branding.js';
export type { SettingsEventRow } from './events.js';
export {
  INSTANCE_EVENT_TYPES,
  ORG_EVENT_TYPES,
  RESTRICTIONS_EVENT_TYPES,
  selectInstanceSettingsEventsSql,
  selectOrgSettingsEventsSql,
  selectSettingsVersionSql,
} from './events.js';
export { reduceLabelPolicy, reduceMailTemplate, reduceNotificationPolicy } from './policies.js';
export type { RawEmailConfig, RawHttpConfig, RawSmsConfig, RawSmtpConfig, RawTwilioConfig } from './providers.js';
export { reduceEmailProviders, reduceSmsProviders } from './providers.js';
export type { InstanceState, MergedPolicies, OrgState } from './reduce.js';
export { mergePolicies, reduceInstanceSettings, reduceOrgSettings } from './reduce.js';
export { resolveEmailProvider, resolveSmsProvider, splitHostPort } from './resolve.js';
export type { InstanceSettingsDeps } from './settings.js';
export { makeInstanceSettings } from './settings.js';
export * from './types.js';
