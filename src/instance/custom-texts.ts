/**
 * Custom message texts, folded from ZITADEL's events (zitadel-config-events.md §3) as part of
 * the instance settings read model (settings.ts: one version check, one cache):
 * `instance.customtext.set/removed/template.removed` on the instance,
 * `org.customtext.set/removed/template.removed` on the user's organisation, `instance.removed`
 * and `org.removed` clearing them. Per (template, language, key): organisation over instance
 * (over herald's own texts, see content/language.ts). Only message templates are read: login
 * UI texts use the same event types with other templates and can be many.
 */
import type { CustomTexts, MessageTexts, TextKey } from '../content/types.js';
import { MessageTypes, TextKeys } from '../content/types.js';
import type { SettingsEventRow } from './events.js';
import { payloadOf, str } from './events.js';

/** Templates whose texts are read (`payload->>'template'`); the other customtext events are skipped. */
export const TEXT_TEMPLATES: readonly string[] = Object.freeze([...MessageTypes]);

/** One aggregate's texts: template → language → key → text. */
export type TextLayer = ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<TextKey, string>>>;

export interface TextLayers {
  readonly instance: TextLayer;
  readonly org: TextLayer;
}

function isTextKey(key: string | undefined): key is TextKey {
  return (TextKeys as readonly string[]).includes(key ?? '');
}

/**
 * Folds one aggregate's customtext events (in sequence order) into its layer. `<type>.removed`
 * (instance.removed, org.removed) clears the layer.
 */
export function reduceTextLayer(rows: readonly SettingsEventRow[]): TextLayer {
  const layer = new Map<string, Map<string, Map<TextKey, string>>>();
  for (const row of rows) {
    const action = row.eventType.slice(row.eventType.indexOf('.') + 1);
    if (action === 'removed') {
      layer.clear();
      continue;
    }
    if (!action.startsWith('customtext.')) continue;
    const p = payloadOf(row);
    const template = str(p, 'template');
    const language = str(p, 'language');
    if (template === undefined || language === undefined) continue;
    const key = str(p, 'key');
    const languages = layer.get(template);
    switch (action) {
      case 'customtext.set': {
        const text = str(p, 'text');
        if (!isTextKey(key) || text === undefined) break;
        const byLanguage = languages ?? new Map<string, Map<TextKey, string>>();
        layer.set(template, byLanguage);
        const keys = byLanguage.get(language) ?? new Map<TextKey, string>();
        byLanguage.set(language, keys);
        keys.set(key, text);
        break;
      }
      case 'customtext.removed':
        if (isTextKey(key)) languages?.get(language)?.delete(key);
        break;
      case 'customtext.template.removed':
        languages?.delete(language);
        break;
    }
  }
  return layer;
}

/** The custom texts of one template, per language: organisation over instance, per key. */
export function customTextsFor(layers: TextLayers, template: string): CustomTexts {
  const out: Record<string, Partial<Record<TextKey, string>>> = {};
  for (const layer of [layers.instance, layers.org]) {
    for (const [language, keys] of layer.get(template) ?? []) {
      const merged = (out[language] ??= {});
      // An empty text counts as unset, as messageTexts treats it.
      for (const [key, text] of keys) if (text) merged[key] = text;
    }
  }
  return out as Readonly<Record<string, MessageTexts>>;
}
