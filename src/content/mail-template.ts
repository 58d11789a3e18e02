/**
 * An instance's or organisation's custom mail template (ZITADEL's "Message texts → Email
 * template", `*.mail.template.added/changed`): HTML in Go html/template syntax, executed
 * with ZITADEL's TemplateData (internal/notification/templates/templateData.go).
 *
 * Supported: everything the go-template subset interprets (`{{.Field}}`, `if/else/with/
 * range`, `and/or/not/eq/ne/len/print/printf`, comments and trim markers), with every
 * value escaped for where it lands (html-context.ts). A field TemplateData does not have,
 * a construct outside the subset (`define`, `template`, variables, …) or a value in a place
 * herald does not render (<script>, on* attributes) is a PermanentError: the notification
 * is canceled with the reason rather than sent half-rendered.
 *
 * Deliberate difference: ZITADEL executes the rendered HTML a second time as a template
 * (GetParsedTemplate), so `{{…}}` inside a user's name would run. herald renders once;
 * values are data, never templates.
 */
import { isPermanent, PermanentError } from '../errors.js';
import { renderGoTemplate } from './go-template.js';
import { TemplateSyntaxError } from './go-template-parse.js';
import { makeHtmlContext } from './html-context.js';
import { unescapeHtml } from './html-escape.js';
import type { Branding, MailTemplateData } from './types.js';

/** templates.DefaultFontFamily; a custom font is put in front of it. */
export const ZITADEL_DEFAULT_FONT_FAMILY = '-apple-system, BlinkMacSystemFont, Segoe UI, Lato, Arial, Helvetica, sans-serif';

/** ZITADEL's defaults for colours a label policy leaves empty (templates/templateData.go). */
export const ZITADEL_DEFAULT_COLORS = { primaryColor: '#5282C1', backgroundColor: '#fafafa', fontColor: '#22292f' } as const;

export interface MailTemplateTexts {
  readonly title: string;
  readonly preHeader: string;
  readonly subject: string;
  readonly greeting: string;
  readonly text: string;
  readonly buttonText: string;
  readonly footer: string;
}

/** GetTemplateData + Translate: texts, link and branding as ZITADEL hands them to a template. */
export function mailTemplateData(texts: MailTemplateTexts, url: string, branding: Branding | undefined): MailTemplateData {
  return {
    Title: texts.title,
    PreHeader: texts.preHeader,
    Subject: texts.subject,
    Greeting: texts.greeting,
    // Translate() unescapes the text once; html/template escapes it again on output.
    Text: unescapeHtml(texts.text),
    URL: url,
    ButtonText: texts.buttonText,
    PrimaryColor: branding?.primaryColor || ZITADEL_DEFAULT_COLORS.primaryColor,
    BackgroundColor: branding?.backgroundColor || ZITADEL_DEFAULT_COLORS.backgroundColor,
    FontColor: branding?.fontColor || ZITADEL_DEFAULT_COLORS.fontColor,
    LogoURL: branding?.logoUrl ?? '',
    FontURL: branding?.fontUrl ?? '',
    FontFaceFamily: branding?.fontFaceFamily ?? '',
    FontFamily: branding?.fontFamily || ZITADEL_DEFAULT_FONT_FAMILY,
    IncludeFooter: texts.footer !== '',
    FooterText: texts.footer,
  };
}

/** Renders the custom template; throws PermanentError('MAIL_TEMPLATE_UNSUPPORTED') when herald cannot. */
export function renderMailTemplate(template: string, data: MailTemplateData): string {
  const context = makeHtmlContext();
  try {
    const html = renderGoTemplate(template, { ...data }, { escape: context.value, text: context.text, strictFields: true });
    context.finish();
    return html;
  } catch (err) {
    // A budget reason is kept as it is (fixed text), so every bomb cancels with the same words.
    if (isPermanent(err) && err.code === 'TEMPLATE_BUDGET') {
      throw new PermanentError('TEMPLATE_BUDGET', `custom mail template: ${err.message}`);
    }
    if (err instanceof TemplateSyntaxError || isPermanent(err)) {
      const reason = err.message.replace(/^template: /, '');
      throw new PermanentError('MAIL_TEMPLATE_UNSUPPORTED', `custom mail template cannot be rendered: ${reason}`, { cause: err });
    }
    throw err;
  }
}
