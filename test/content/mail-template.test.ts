import { describe, expect, it } from 'vitest';

import { mailTemplateData, renderMailTemplate } from '../../src/content/mail-template.js';
import { renderMessage } from '../../src/content/render.js';
import type { MailTemplateData } from '../../src/content/types.js';
import { isPermanent } from '../../src/errors.js';

const ARGS = { Code: 'K7Q9ZX', DisplayName: 'Ada', PreferredLoginName: 'ada', UserName: 'ada' };
const TEXTS = {
  title: 'Welcome',
  preHeader: 'Init',
  subject: 'Init user',
  greeting: 'Hello Ada,',
  text: 'Your code is 123',
  buttonText: 'Finish',
  footer: '',
};

function data(over: Partial<MailTemplateData> = {}): MailTemplateData {
  return { ...mailTemplateData(TEXTS, 'https://auth.example.com/init?code=123&user=7', undefined), ...over };
}

/** The constructs ZITADEL's compiled MJML default template uses, in the places it uses them. */
const ZITADEL_LIKE = `<!doctype html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head>
<title>{{.Title}}</title>
<!--[if mso]><xml><o:OfficeDocumentSettings><o:AllowPNG/></o:OfficeDocumentSettings></xml><![endif]-->
{{if .FontURL}}<style type="text/css">
@font-face { font-family: '{{.FontFaceFamily}}'; src: url({{.FontURL}}); }
</style>{{end}}
<style type="text/css">body { font-family: {{.FontFamily}}; color: {{.FontColor}}; }</style>
</head>
<body style="word-spacing:normal;background-color:{{.BackgroundColor}};">
<div style="display:none">{{.PreHeader}}</div>
{{if .LogoURL}}<img src="{{.LogoURL}}" alt="logo" width="180">{{end}}
<div style="font-family:{{.FontFamily}};color:{{.FontColor}}">{{.Greeting}}</div>
<div>{{.Text}}</div>
<a href="{{.URL}}" style="background:{{.PrimaryColor}};" target="_blank">{{.ButtonText}}</a>
{{if .IncludeFooter}}<p>{{.FooterText}}</p>{{end}}
</body>
</html>`;

function refusal(template: string, d: MailTemplateData = data()): string {
  try {
    renderMailTemplate(template, d);
  } catch (err) {
    expect(isPermanent(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('rendered although it should have been refused');
}

describe('custom mail template (Go html/template)', () => {
  it('renders ZITADEL-style templates with branding in text, attributes, style and <style>', () => {
    const html = renderMailTemplate(
      ZITADEL_LIKE,
      data({
        PrimaryColor: '#aa0000',
        BackgroundColor: '#010203',
        LogoURL: 'https://a.example/assets/v1/inst-a/logo.png',
        FontURL: 'https://a.example/assets/v1/inst-a/fonts/Inter.ttf',
        FontFaceFamily: 'Inter.ttf',
        FontFamily: 'Inter.ttf,-apple-system, sans-serif',
      }),
    );
    expect(html).toContain('<title>Welcome</title>');
    expect(html).toContain(`font-family: 'Inter.ttf'; src: url(https://a.example/assets/v1/inst-a/fonts/Inter.ttf);`);
    expect(html).toContain('body { font-family: Inter.ttf,-apple-system, sans-serif; color: #22292f; }');
    expect(html).toContain('background-color:#010203;');
    expect(html).toContain('<img src="https://a.example/assets/v1/inst-a/logo.png" alt="logo" width="180">');
    expect(html).toContain('<a href="https://auth.example.com/init?code=123&amp;user=7" style="background:#aa0000;"');
    expect(html).toContain('<div>Your code is 123</div>');
    // html/template removes comments (MSO conditionals included); the footer is off.
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('<p>');
  });

  it('leaves the logo out without a logo and includes the footer when there is one', () => {
    const html = renderMailTemplate(ZITADEL_LIKE, data({ IncludeFooter: true, FooterText: 'Bye & thanks' }));
    expect(html).not.toContain('<img');
    expect(html).not.toContain('@font-face');
    expect(html).toContain('<p>Bye &amp; thanks</p>');
  });

  it('escapes values for their context, as html/template does', () => {
    const html = renderMailTemplate(
      `<p>{{.Greeting}}</p><a href="{{.URL}}">x</a><a href="https://x.example/?next={{.URL}}">y</a>` +
        `<div style="color:{{.FontColor}}"></div><div title={{.Title}}></div><style>p{color:{{.PrimaryColor}}}</style>`,
      data({
        Greeting: '<script>alert("hi")</script> & +',
        URL: 'javascript:alert(1)',
        FontColor: 'red;background:url(https://evil.example)',
        Title: 'a b=c',
        PrimaryColor: 'expression(alert(1))',
      }),
    );
    expect(html).toContain('<p>&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; &amp; &#43;</p>');
    expect(html).toContain('<a href="#ZgotmplZ">x</a>');
    expect(html).toContain('<a href="https://x.example/?next=javascript%3aalert%281%29">y</a>');
    expect(html).toContain('<div style="color:ZgotmplZ"></div>');
    expect(html).toContain('<div title=a&#32;b&#61;c></div>');
    expect(html).toContain('<style>p{color:ZgotmplZ}</style>');
  });

  it('drops comments with the values in them, and types attributes by name', () => {
    const html = renderMailTemplate(
      '<!-- {{.Title}} --><table background="{{.LogoURL}}" data-src="{{.URL}}" bgcolor="{{.PrimaryColor}}"></table>',
      data({ LogoURL: 'vbscript:x', URL: 'https://a.example/a b', PrimaryColor: '#fff' }),
    );
    expect(html).toBe('<table background="#ZgotmplZ" data-src="https://a.example/a%20b" bgcolor="#fff"></table>');
  });

  it('renders once: a value that looks like a template stays text (ZITADEL would run it again)', () => {
    const html = renderMailTemplate('<p>{{.Greeting}}</p>', data({ Greeting: 'Hi {{.URL}}' }));
    expect(html).toBe('<p>Hi {{.URL}}</p>');
  });

  it.each([
    ['a field TemplateData does not have', '<p>{{.IncludeLogo}}</p>', /can't evaluate field IncludeLogo/],
    ['define/template', '{{define "x"}}a{{end}}', /not supported/],
    ['a value in <script>', '<script>var t = "{{.Text}}";</script>', /<script>/],
    ['a value in an event handler', '<a onclick="go(\'{{.URL}}\')">x</a>', /onclick/],
    ['a value as an attribute name', '<a {{.URL}}>x</a>', /outside an attribute value/],
    ['a template that ends inside a tag', '<a href="{{.URL}}', /ends inside <a>/],
    ['a syntax error', '<p>{{.Title</p>', /unclosed action/],
  ])('cancels on %s', (_what, template, reason) => {
    const message = refusal(template);
    expect(message).toMatch(/^custom mail template cannot be rendered: /);
    expect(message).toMatch(reason);
  });

  it('renderMessage uses the mail template for the HTML and keeps the plain text', () => {
    const out = renderMessage({
      messageType: 'InitCode',
      language: 'en',
      channel: 'email',
      args: ARGS,
      urlTemplate: 'https://auth.example.com/init?code={{.Code}}',
      branding: { primaryColor: '#123456', backgroundColor: '#fafafa', fontColor: '#000000', logoUrl: 'https://a.example/logo.png' },
      mailTemplate: '<html><body><a href="{{.URL}}" style="color:{{.PrimaryColor}}">{{.ButtonText}}</a><img src="{{.LogoURL}}"></body></html>',
    });
    if (out.kind !== 'email') throw new Error('expected an email');
    expect(out.html).toMatch(
      /^<html><body><a href="https:\/\/auth\.example\.com\/init\?code=[^"]+" style="color:#123456">[^<]+<\/a><img src="https:\/\/a\.example\/logo\.png"><\/body><\/html>$/,
    );
    expect(out.text).toContain('https://auth.example.com/init?code=');
    expect(out.templateData).toMatchObject({ PrimaryColor: '#123456', LogoURL: 'https://a.example/logo.png', IncludeFooter: false });
  });

  it('a preferred language the instance does not allow falls back to the default language', () => {
    const base = { messageType: 'InitCode', channel: 'sms', args: ARGS } as const;
    expect(renderMessage({ ...base, language: 'de' }).language).toBe('de');
    expect(renderMessage({ ...base, language: 'de', allowedLanguages: ['en'], defaultLanguage: 'en' }).language).toBe('en');
    expect(renderMessage({ ...base, language: 'de', allowedLanguages: ['de', 'en'], defaultLanguage: 'en' }).language).toBe('de');
  });
});
