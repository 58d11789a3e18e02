/**
 * Turns a message type, the user's language and the args into what a channel
 * sends. Texts are templates from trusted sources (herald's defaults or an
 * admin's custom texts); args are untrusted data and are only ever printed.
 */
import { isPermanent, PermanentError } from '../errors.js';
import { urlArgs } from './args.js';
import { renderGoTemplate } from './go-template.js';
import { renderEmailLayout } from './layout.js';
import type { MessageCatalog } from './texts/catalog.js';
import { de } from './texts/de.js';
import { en } from './texts/en.js';
import type { MessageTexts, MessageType, Rendered, RenderInput, TextKey } from './types.js';
import { MessageTypes, TextKeys } from './types.js';

const CATALOGS: Readonly<Record<string, MessageCatalog>> = { en, de };
export const DEFAULT_LANGUAGE = 'en';
export const SUPPORTED_LANGUAGES: readonly string[] = Object.keys(CATALOGS);

export function isMessageType(s: string): s is MessageType {
  return (MessageTypes as readonly string[]).includes(s);
}

/** The user's language if herald has texts for its primary subtag (`de-CH` → `de`), else English. */
export function pickLanguage(preferred: string): string {
  const primary = preferred.trim().split(/[-_]/)[0]?.toLowerCase() ?? '';
  return Object.hasOwn(CATALOGS, primary) ? primary : DEFAULT_LANGUAGE;
}

/** Default texts for the language with non-empty overrides (custom texts) laid over per key. */
export function messageTexts(type: MessageType, language: string, overrides?: MessageTexts): MessageTexts {
  const base = (CATALOGS[language] ?? en)[type];
  const merged: Partial<Record<TextKey, string>> = { ...base };
  for (const key of TextKeys) {
    const v = overrides?.[key];
    if (v) merged[key] = v;
  }
  return merged;
}

function renderOrCancel(what: string, tmpl: string, args: RenderInput['args']): string {
  try {
    return renderGoTemplate(tmpl, args);
  } catch (err) {
    if (isPermanent(err)) throw new PermanentError(err.code, `${what}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Header values must be one line: a CR/LF (or any control character) could inject headers. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

export function renderMessage(input: RenderInput): Rendered {
  if (!isMessageType(input.messageType)) {
    throw new PermanentError('UNKNOWN_MESSAGE_TYPE', `unknown message type ${JSON.stringify(input.messageType)}`);
  }
  const language = pickLanguage(input.language);
  const texts = messageTexts(input.messageType, language, input.overrides);

  // ZITADEL renders the URL with HTML-escaped args on the email path; that string is
  // `url`. Its HTML email is unescaped once at the end, so the link a recipient follows
  // carries the raw args: that is `link`, used in the bodies, the button and {{.URL}},
  // and escaped exactly once where it goes into HTML.
  const tmpl = input.urlTemplate ?? '';
  const url = tmpl ? renderOrCancel('urlTemplate', tmpl, urlArgs(input.args, input.channel)) : '';
  const link = tmpl && input.channel === 'email' ? renderOrCancel('urlTemplate', tmpl, input.args) : url;
  const args = { ...input.args, URL: link };

  const rendered: Partial<Record<TextKey, string>> = {};
  for (const key of TextKeys) {
    const tmpl = texts[key];
    if (tmpl) rendered[key] = renderOrCancel(`${input.messageType}.${key}`, tmpl, args);
  }

  if (input.channel === 'sms') return { kind: 'sms', language, text: rendered.Text ?? '' };

  const footer = rendered.Footer ?? '';
  const text = [rendered.Greeting, rendered.Text, link, footer].filter((part) => part).join('\n\n');
  const html = renderEmailLayout(
    {
      lang: language,
      title: rendered.Title ?? '',
      preHeader: rendered.PreHeader ?? '',
      greeting: rendered.Greeting ?? '',
      text: rendered.Text ?? '',
      url: link,
      buttonText: rendered.ButtonText ?? '',
      footer,
    },
    input.branding,
  );
  return { kind: 'email', language, subject: oneLine(rendered.Subject ?? ''), html, text: `${text}\n`, url };
}
