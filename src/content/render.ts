/**
 * Turns a message type, the user's language and the args into what a channel
 * sends. Texts are templates from trusted sources (herald's defaults or an
 * admin's custom texts); args are untrusted data and are only ever printed.
 */
import { isPermanent, PermanentError } from '../errors.js';
import { urlArgs } from './args.js';
import { renderGoTemplate, TEMPLATE_LIMITS } from './go-template.js';
import { TemplateBudgetError } from './go-template-parse.js';
import { chooseTexts } from './language.js';
import { renderEmailLayout } from './layout.js';
import { mailTemplateData, renderMailTemplate } from './mail-template.js';
import type { MessageType, Rendered, RenderInput, TextKey } from './types.js';
import { MessageTypes, TextKeys } from './types.js';

export function isMessageType(s: string): s is MessageType {
  return (MessageTypes as readonly string[]).includes(s);
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
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
      .replace(/ {2,}/g, ' ')
      .trim()
  );
}

/**
 * Args come from ZITADEL, whose fields are short (names up to 200 characters); one above the
 * value cap can only be hostile, and would only make every step of the render costly.
 */
function checkArgSizes(args: RenderInput['args']): void {
  for (const v of Object.values(args)) {
    const values = Array.isArray(v) ? v : [v];
    if (values.length > TEMPLATE_LIMITS.valueChars || values.some((x) => typeof x === 'string' && x.length > TEMPLATE_LIMITS.valueChars)) {
      throw new PermanentError('TEMPLATE_BUDGET', new TemplateBudgetError('value size').message);
    }
  }
}

export function renderMessage(input: RenderInput): Rendered {
  if (!isMessageType(input.messageType)) {
    // The type name comes from the request: quoted short.
    throw new PermanentError('UNKNOWN_MESSAGE_TYPE', `unknown message type ${JSON.stringify(input.messageType.slice(0, 40))}`);
  }
  checkArgSizes(input.args);
  const { language, texts } = chooseTexts(input.messageType, input.language, input);

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

  const footer = rendered.Footer ?? '';
  const parts = {
    title: rendered.Title ?? '',
    preHeader: rendered.PreHeader ?? '',
    subject: oneLine(rendered.Subject ?? ''),
    greeting: rendered.Greeting ?? '',
    text: rendered.Text ?? '',
    buttonText: rendered.ButtonText ?? '',
    footer,
  };
  const templateData = mailTemplateData(parts, link, input.branding);
  if (input.channel === 'sms') return { kind: 'sms', language, text: parts.text, templateData };

  const text = [rendered.Greeting, rendered.Text, link, footer].filter((part) => part).join('\n\n');
  const html = input.mailTemplate
    ? renderMailTemplate(input.mailTemplate, templateData)
    : renderEmailLayout({ lang: language, ...parts, url: link }, input.branding);
  return { kind: 'email', language, subject: parts.subject, html, text: `${text}\n`, url, templateData };
}
