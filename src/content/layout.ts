/**
 * herald's HTML email layout: one self-contained, table-based, responsive page
 * with inline styles (mail clients drop <link> and most <style>). Every value
 * is escaped here; branding values are validated because they land in CSS.
 */
import { escapeHtml } from './go-template.js';
import type { Branding } from './types.js';

export const DEFAULT_BRANDING = {
  primaryColor: '#5282C1',
  backgroundColor: '#fafafa',
  fontColor: '#22292f',
} as const satisfies Branding;

const DEFAULT_FONT_STACK = "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

export interface LayoutContent {
  readonly lang: string;
  readonly title: string;
  readonly preHeader: string;
  readonly greeting: string;
  readonly text: string;
  /** The link as the recipient should follow it; "" for no button. */
  readonly url: string;
  readonly buttonText: string;
  readonly footer: string;
}

/** Hex, rgb()/hsl() or a named colour; anything else could break out of the CSS value. */
function safeColor(value: string | undefined, fallback: string): string {
  if (!value) return fallback;
  const v = value.trim();
  return /^#[0-9a-fA-F]{3,8}$/.test(v) || /^(rgb|hsl)a?\([\d\s.,%/]+\)$/.test(v) || /^[a-zA-Z]{3,30}$/.test(v) ? v : fallback;
}

function safeFontFamily(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v && /^[\w .,-]{1,100}$/.test(v) ? v : undefined;
}

/** Only http(s) URLs without characters that could end a CSS url() or an attribute. */
function safeAssetUrl(value: string | undefined): string | undefined {
  return value && /^https?:\/\/[^\s"'()<>\\]+$/i.test(value) ? value : undefined;
}

/**
 * Like html/template's URL filter: only http(s), mailto and relative links in an href.
 * Browsers drop tabs, newlines and leading spaces from URLs, so look past them.
 */
export function safeHref(url: string): string {
  // eslint-disable-next-line no-control-regex
  const probe = url.replace(/[\u0000-\u0020\u007f]/g, '');
  const scheme = /^([^/?#]*?):/.exec(probe)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === 'http' || scheme === 'https' || scheme === 'mailto' ? url : '#';
}

/** Escaped text with line breaks kept. */
function paragraphHtml(s: string): string {
  return escapeHtml(s).replace(/\r?\n/g, '<br>\n');
}

export function renderEmailLayout(content: LayoutContent, branding: Branding | undefined): string {
  const primary = safeColor(branding?.primaryColor, DEFAULT_BRANDING.primaryColor);
  const background = safeColor(branding?.backgroundColor, DEFAULT_BRANDING.backgroundColor);
  const fontColor = safeColor(branding?.fontColor, DEFAULT_BRANDING.fontColor);
  // The @font-face name is the font file's (ZITADEL's FontFaceFamily) when there is one.
  const family = safeFontFamily(branding?.fontFaceFamily ?? branding?.fontFamily);
  const fontUrl = safeAssetUrl(branding?.fontUrl);
  const logoUrl = safeAssetUrl(branding?.logoUrl);
  const fontStack = escapeHtml(family ? `'${family}', ${DEFAULT_FONT_STACK}` : DEFAULT_FONT_STACK);
  // <style> is raw text (entities are not decoded there); both values are validated to
  // contain no quotes, parentheses or `<`, so they cannot leave the rule or the element.
  const fontFace = family && fontUrl ? `<style>@font-face{font-family:'${family}';src:url("${fontUrl}");}</style>` : '';

  const logo = logoUrl
    ? `<tr><td style="padding:0 0 24px 0;text-align:center;"><img src="${escapeHtml(logoUrl)}" alt="" style="max-height:60px;max-width:200px;border:0;"></td></tr>`
    : '';
  const title = content.title
    ? `<tr><td style="padding:0 0 16px 0;"><h1 style="margin:0;font-size:24px;line-height:1.3;font-weight:600;">${paragraphHtml(content.title)}</h1></td></tr>`
    : '';
  const greeting = content.greeting
    ? `<tr><td style="padding:0 0 12px 0;font-size:16px;line-height:1.5;">${paragraphHtml(content.greeting)}</td></tr>`
    : '';
  const text = content.text ? `<tr><td style="padding:0 0 24px 0;font-size:16px;line-height:1.5;">${paragraphHtml(content.text)}</td></tr>` : '';
  const href = escapeHtml(safeHref(content.url));
  const button = content.url
    ? `<tr><td style="padding:0 0 24px 0;text-align:center;">` +
      `<a href="${href}" target="_blank" rel="noopener" style="display:inline-block;padding:12px 28px;border-radius:6px;` +
      `background-color:${primary};color:#ffffff;font-size:16px;font-weight:600;text-decoration:none;">` +
      `${escapeHtml(content.buttonText || content.url)}</a></td></tr>` +
      `<tr><td style="padding:0 0 8px 0;font-size:12px;line-height:1.5;word-break:break-all;opacity:0.75;">` +
      `<a href="${href}" style="color:${primary};">${escapeHtml(content.url)}</a></td></tr>`
    : '';
  const footer = content.footer
    ? `<tr><td style="padding:24px 0 0 0;font-size:12px;line-height:1.5;opacity:0.75;">${paragraphHtml(content.footer)}</td></tr>`
    : '';
  // The pre-header is the inbox preview line; hidden in the opened message.
  const preHeader = content.preHeader
    ? `<div style="display:none;max-height:0;overflow:hidden;opacity:0;">${escapeHtml(content.preHeader)}</div>`
    : '';

  return `<!DOCTYPE html>
<html lang="${escapeHtml(content.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(content.title)}</title>
${fontFace}
</head>
<body style="margin:0;padding:0;background-color:${background};color:${fontColor};font-family:${fontStack};">
${preHeader}
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" border="0" style="background-color:${background};">
<tr><td align="center" style="padding:32px 12px;">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" border="0" style="max-width:560px;color:${fontColor};font-family:${fontStack};">
${logo}${title}${greeting}${text}${button}${footer}
</table>
</td></tr>
</table>
</body>
</html>
`;
}
