/**
 * Which language a message is written in, and which texts it gets: herald's defaults for
 * that language with the custom texts (organisation over instance) laid over per key.
 *
 * ZITADEL builds a go-i18n bundle of its static files plus the custom texts, with the
 * instance default language first, and matches the user's preferred language against the
 * bundle's tags (zitadel-config-events.md §3). herald does the same with a simpler matcher:
 * exact tag, then primary subtag (`de-CH` → `de`), then any tag with the same primary subtag
 * (`de` → `de-CH`). A language counts as available when herald has texts for it **or** a
 * custom text of this message type exists in it.
 *
 * Where herald differs on purpose: a key that the chosen language lacks falls back per key
 * to herald's text (ZITADEL would print the message id, e.g. `InitCode.Title`). For a
 * language that only custom texts provide, those fallback texts come from herald's texts in
 * the instance default language (if herald has it), else English.
 */
import type { MessageCatalog } from './texts/catalog.js';
import { de } from './texts/de.js';
import { en } from './texts/en.js';
import type { MessageTexts, MessageType, TextKey, TextSettings } from './types.js';
import { TextKeys } from './types.js';

const CATALOGS: Readonly<Record<string, MessageCatalog>> = { en, de };
export const DEFAULT_LANGUAGE = 'en';
export const SUPPORTED_LANGUAGES: readonly string[] = Object.keys(CATALOGS);

function normalize(tag: string): string {
  return tag.trim().replace(/_/g, '-').toLowerCase();
}

function primaryOf(tag: string): string {
  return normalize(tag).split('-')[0] ?? '';
}

/**
 * The tag of `available` that best matches `tag` (as spelled in `available`), or undefined
 * for an empty, `und` or unmatched tag.
 */
export function matchLanguage(tag: string, available: readonly string[]): string | undefined {
  const wanted = normalize(tag);
  if (wanted === '' || wanted === 'und') return undefined;
  const primary = primaryOf(wanted);
  return (
    available.find((a) => normalize(a) === wanted) ??
    available.find((a) => normalize(a) === primary) ??
    available.find((a) => primaryOf(a) === primary)
  );
}

/** The language of herald's own texts for `preferred`: its match, else the default language's, else English. */
export function pickLanguage(preferred: string, defaultLanguage = ''): string {
  return matchLanguage(preferred, SUPPORTED_LANGUAGES) ?? matchLanguage(defaultLanguage, SUPPORTED_LANGUAGES) ?? DEFAULT_LANGUAGE;
}

/** Default texts for the language with non-empty overrides (custom texts) laid over per key. */
export function messageTexts(type: MessageType, language: string, ...overrides: (MessageTexts | undefined)[]): MessageTexts {
  const base = (CATALOGS[language] ?? en)[type];
  const merged: Partial<Record<TextKey, string>> = { ...base };
  for (const layer of overrides) {
    for (const key of TextKeys) {
      const v = layer?.[key];
      if (v) merged[key] = v;
    }
  }
  return merged;
}

export interface TextChoice {
  /** The language the message is written in (a herald language or a custom-text tag). */
  readonly language: string;
  readonly texts: MessageTexts;
}

function hasText(texts: MessageTexts | undefined): boolean {
  return TextKeys.some((k) => Boolean(texts?.[k]));
}

/** Picks the language and lays custom texts, then `overrides`, over herald's texts. */
export function chooseTexts(type: MessageType, preferred: string, settings: TextSettings & { readonly overrides?: MessageTexts } = {}): TextChoice {
  const custom = settings.customTexts ?? {};
  const customFor = (language: string): MessageTexts | undefined =>
    Object.entries(custom).find(([tag]) => normalize(tag) === normalize(language))?.[1];
  const known = new Set(SUPPORTED_LANGUAGES.map(normalize));
  const customLanguages = Object.keys(custom).filter((l) => hasText(custom[l]) && !known.has(normalize(l)));
  const available = [...SUPPORTED_LANGUAGES, ...customLanguages];
  const defaultLanguage = settings.defaultLanguage ?? '';
  // restrictions.set: a preferred language the instance does not allow counts as unknown.
  const allowed = settings.allowedLanguages ?? [];
  const usable = allowed.length === 0 || matchLanguage(preferred, allowed) !== undefined ? preferred : '';
  const language = matchLanguage(usable, available) ?? matchLanguage(defaultLanguage, available) ?? DEFAULT_LANGUAGE;
  const base = matchLanguage(language, SUPPORTED_LANGUAGES) ?? pickLanguage(defaultLanguage);
  return { language, texts: messageTexts(type, base, customFor(language), settings.overrides) };
}
