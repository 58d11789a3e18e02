/**
 * Label policy, mail template and notification policy of one aggregate (instance or org),
 * folded as ZITADEL's label_policies, mail_templates and notification_policies projections
 * do (zitadel-config-events.md §4, §6). Pure functions over rows of that aggregate.
 */
import { decodeStdBase64 } from '../crypto/value.js';
import type { SettingsEventRow } from './events.js';
import { bool, InstanceEvent, labelEventSuffix, OrgEvent, payloadOf, str } from './events.js';
import type { LabelPolicy } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Payload = Readonly<Record<string, unknown>>;

const COLORS = [
  'primaryColor',
  'backgroundColor',
  'warnColor',
  'fontColor',
  'primaryColorDark',
  'backgroundColorDark',
  'warnColorDark',
  'fontColorDark',
] as const;

const ASSET_KEYS = {
  logo: 'logoKey',
  icon: 'iconKey',
  'logo.dark': 'logoDarkKey',
  'icon.dark': 'iconDarkKey',
  font: 'fontKey',
} as const satisfies Record<string, keyof LabelPolicy>;

function int(p: Payload, key: string): number | undefined {
  const v = p[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function addedPolicy(row: SettingsEventRow, owner: LabelPolicy['owner']): Mutable<LabelPolicy> {
  const p = payloadOf(row);
  const policy: Mutable<LabelPolicy> = {
    policyId: row.aggregateId,
    owner,
    primaryColor: '',
    backgroundColor: '',
    warnColor: '',
    fontColor: '',
    primaryColorDark: '',
    backgroundColorDark: '',
    warnColorDark: '',
    fontColorDark: '',
    hideLoginNameSuffix: bool(p, 'hideLoginNameSuffix') ?? false,
    errorMsgPopup: bool(p, 'errorMsgPopup') ?? false,
    // The added event's Go tag for DisableWatermark is "disableMsgPopup".
    disableWatermark: bool(p, 'disableMsgPopup') ?? false,
    themeMode: int(p, 'themeMode') ?? 0,
    logoKey: '',
    iconKey: '',
    logoDarkKey: '',
    iconDarkKey: '',
    fontKey: '',
  };
  for (const c of COLORS) policy[c] = str(p, c) ?? '';
  return policy;
}

function changePolicy(policy: Mutable<LabelPolicy>, p: Payload): void {
  for (const c of COLORS) policy[c] = str(p, c) ?? policy[c];
  policy.hideLoginNameSuffix = bool(p, 'hideLoginNameSuffix') ?? policy.hideLoginNameSuffix;
  policy.errorMsgPopup = bool(p, 'errorMsgPopup') ?? policy.errorMsgPopup;
  policy.disableWatermark = bool(p, 'disableWatermark') ?? policy.disableWatermark;
  policy.themeMode = int(p, 'themeMode') ?? policy.themeMode;
}

/**
 * The activated version of one aggregate's label policy. `added`, `changed` and the asset
 * events edit the preview; `activated` copies the preview over the active version; org
 * `policy.label.removed` and `org.removed` delete both.
 */
export function reduceLabelPolicy(rows: readonly SettingsEventRow[], owner: LabelPolicy['owner']): LabelPolicy | undefined {
  let preview: Mutable<LabelPolicy> | undefined;
  let active: LabelPolicy | undefined;
  for (const row of rows) {
    if (row.eventType === OrgEvent.labelPolicyRemoved || row.eventType === 'org.removed') {
      preview = undefined;
      active = undefined;
      continue;
    }
    const suffix = labelEventSuffix(row.eventType);
    if (suffix === undefined) continue;
    if (suffix === 'added') {
      preview = addedPolicy(row, owner);
      continue;
    }
    if (!preview) continue; // an UPDATE of a preview row that does not exist
    const p = payloadOf(row);
    if (suffix === 'changed') changePolicy(preview, p);
    else if (suffix === 'activated') active = { ...preview };
    else if (suffix === 'assets.removed') for (const key of Object.values(ASSET_KEYS)) preview[key] = '';
    else {
      const [asset, verb] = splitAssetSuffix(suffix);
      preview[ASSET_KEYS[asset]] = verb === 'added' ? (str(p, 'storeKey') ?? '') : '';
    }
  }
  return active;
}

function splitAssetSuffix(suffix: string): [keyof typeof ASSET_KEYS, 'added' | 'removed'] {
  const dot = suffix.lastIndexOf('.');
  return [suffix.slice(0, dot) as keyof typeof ASSET_KEYS, suffix.slice(dot + 1) as 'added' | 'removed'];
}

/** `{template: base64}` → the HTML text; undefined when the bytes are not base64 UTF-8. */
function decodeTemplate(p: Payload): string | undefined {
  const raw = str(p, 'template');
  if (raw === undefined) return undefined;
  const bytes = decodeStdBase64(raw);
  if (bytes === undefined) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

const MAIL_TEMPLATE_SET: ReadonlySet<string> = new Set([
  InstanceEvent.mailTemplateAdded,
  InstanceEvent.mailTemplateChanged,
  OrgEvent.mailTemplateAdded,
  OrgEvent.mailTemplateChanged,
]);

/** The aggregate's mail template; an empty template counts as none. */
export function reduceMailTemplate(rows: readonly SettingsEventRow[]): string | undefined {
  let template: string | undefined;
  for (const row of rows) {
    if (MAIL_TEMPLATE_SET.has(row.eventType)) {
      template = decodeTemplate(payloadOf(row)) ?? template;
    } else if (row.eventType === OrgEvent.mailTemplateRemoved || row.eventType === 'org.removed') {
      template = undefined;
    }
  }
  return template === '' ? undefined : template;
}

/** The aggregate's notification policy `passwordChange`; undefined when it has no policy. */
export function reduceNotificationPolicy(rows: readonly SettingsEventRow[]): boolean | undefined {
  let passwordChange: boolean | undefined;
  for (const row of rows) {
    const p = payloadOf(row);
    switch (row.eventType) {
      case InstanceEvent.notificationPolicyAdded:
      case OrgEvent.notificationPolicyAdded:
        passwordChange = bool(p, 'passwordChange') ?? false; // omitempty drops false
        break;
      case InstanceEvent.notificationPolicyChanged:
      case OrgEvent.notificationPolicyChanged:
        if (passwordChange !== undefined) passwordChange = bool(p, 'passwordChange') ?? passwordChange;
        break;
      case OrgEvent.notificationPolicyRemoved:
      case 'org.removed':
        passwordChange = undefined;
        break;
    }
  }
  return passwordChange;
}
