/**
 * An instance's notification settings as ZITADEL's projections would hold them, rebuilt from
 * eventstore.events2 (zitadel-config-events.md). Secrets are decrypted; a secret that cannot
 * be decrypted is kept as `problem` so only a send that needs it fails.
 */
import type { TextLayers } from './custom-texts.js';
import type { OrgLoginState } from './login-names.js';

export type { EmailProvider, HttpEmailProvider, HttpSmsProvider, SmsProvider, SmtpProvider, TwilioProvider } from '../channels/provider-settings.js';
import type { EmailProvider, SmsProvider } from '../channels/provider-settings.js';

/** One version (preview or activated) of a label policy (policy/label.go). */
export interface LabelPolicy {
  /** The aggregate the policy belongs to (instance or org id): part of its asset URLs. */
  readonly policyId: string;
  readonly owner: 'instance' | 'org';
  readonly primaryColor: string;
  readonly backgroundColor: string;
  readonly warnColor: string;
  readonly fontColor: string;
  readonly primaryColorDark: string;
  readonly backgroundColorDark: string;
  readonly warnColorDark: string;
  readonly fontColorDark: string;
  readonly hideLoginNameSuffix: boolean;
  readonly errorMsgPopup: boolean;
  /** `disableMsgPopup` in added events, `disableWatermark` in changed ones (a ZITADEL tag quirk). */
  readonly disableWatermark: boolean;
  readonly themeMode: number;
  /** Asset store keys; "" when none. */
  readonly logoKey: string;
  readonly iconKey: string;
  readonly logoDarkKey: string;
  readonly iconDarkKey: string;
  readonly fontKey: string;
}

export interface InstanceSettings {
  readonly instanceId: string;
  readonly orgId: string;
  /** instance.removed was written: nothing should be sent for this instance any more. */
  readonly removed: boolean;
  /** The active email provider; undefined when none is active. */
  readonly email: EmailProvider | undefined;
  /** The active SMS provider; undefined when none is active. */
  readonly sms: SmsProvider | undefined;
  /** The org's activated label policy, else the instance's; undefined when neither was activated. */
  readonly branding: LabelPolicy | undefined;
  /** HTML mail template (Go html/template), org over instance; undefined when none. */
  readonly mailTemplate: string | undefined;
  /** Notification policy `passwordChange`, org over instance. @defaultValue true */
  readonly passwordChangeNotify: boolean;
  /** instance.default.language.set; undefined when never set. */
  readonly defaultLanguage: string | undefined;
  /** restrictions.set allowedLanguages; empty means every supported language. */
  readonly allowedLanguages: readonly string[];
  /** The instance's primary domain (origin fallback); undefined when none. */
  readonly primaryDomain: string | undefined;
  /** Verified org domains and the effective domain policy (PreferredLoginName, LoginNames). */
  readonly login: OrgLoginState;
  /** Custom message texts of the instance and the org (customTextsFor picks a template's). */
  readonly texts: TextLayers;
}

export interface InstanceSettingsSource {
  /** Settings for a notification of `orgId` (the user's resource owner) in `instanceId`. */
  get(instanceId: string, orgId: string): Promise<InstanceSettings>;
  /** Drops every cached entry of the instance (e.g. after instance.removed). */
  forget(instanceId: string): void;
}
