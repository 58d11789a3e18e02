/**
 * The label policy as the email renderer takes it (content/types.ts Branding), with ZITADEL's
 * asset URL rule `<origin>/assets/v1/<policy aggregate id>/<storeKey>` (GetTemplateData in
 * internal/notification/types/templateData.go). The origin is known per notification (the
 * request's triggeredAtOrigin, else the instance's primary domain), so it is a parameter
 * here rather than part of the cached settings.
 */
import { ZITADEL_DEFAULT_COLORS as DEFAULTS, ZITADEL_DEFAULT_FONT_FAMILY } from '../content/mail-template.js';
import type { Branding } from '../content/types.js';
import type { LabelPolicy } from './types.js';

export { ZITADEL_DEFAULT_FONT_FAMILY };

/** `<origin>/assets/v1/<policyId>/<storeKey>`; path segments of the key are kept as stored. */
export function assetUrl(origin: string, policyId: string, storeKey: string): string {
  return `${origin.replace(/\/+$/, '')}/assets/v1/${encodeURIComponent(policyId)}/${storeKey}`;
}

/** Branding for one email; undefined policy (none activated) gives ZITADEL's defaults. */
export function brandingFor(policy: LabelPolicy | undefined, origin: string): Branding {
  if (!policy) return { ...DEFAULTS };
  const branding: { -readonly [K in keyof Branding]: Branding[K] } = {
    primaryColor: policy.primaryColor || DEFAULTS.primaryColor,
    backgroundColor: policy.backgroundColor || DEFAULTS.backgroundColor,
    fontColor: policy.fontColor || DEFAULTS.fontColor,
  };
  // Without an origin ZITADEL leaves the asset URLs out (assetsPrefix == "").
  if (origin === '') return branding;
  if (policy.logoKey) branding.logoUrl = assetUrl(origin, policy.policyId, policy.logoKey);
  if (policy.fontKey) {
    branding.fontUrl = assetUrl(origin, policy.policyId, policy.fontKey);
    const face = policy.fontKey.split('/').at(-1) ?? '';
    branding.fontFaceFamily = face;
    branding.fontFamily = `${face},${ZITADEL_DEFAULT_FONT_FAMILY}`;
  }
  return branding;
}
