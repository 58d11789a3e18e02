/**
 * Every regex and template path that tenant or provider data reaches, fed 1 MiB inputs of the
 * shapes that make backtracking patterns quadratic (long runs of one character, runs that
 * almost match, many openers without a closer). Each call must finish within two seconds;
 * the limit is generous on purpose: "not quadratic, not hanging", not a speed target (a
 * quadratic pattern on 1 MiB takes minutes to hours).
 */
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { assertSafeAddress, classifySmtpError, safeHeaderValue, safeSubject } from '../../src/channels/smtp-errors.js';
import { redactUrl } from '../../src/config/problems.js';
import { escapeHtml, renderGoTemplate, TEMPLATE_LIMITS } from '../../src/content/go-template.js';
import {
  cssEscaper,
  cssValueFilter,
  htmlEscaper,
  htmlNospaceEscaper,
  unescapeHtml,
  urlFilter,
  urlNormalizer,
} from '../../src/content/html-escape.js';
import { matchLanguage } from '../../src/content/language.js';
import { renderEmailLayout, safeHref } from '../../src/content/layout.js';
import { renderMailTemplate } from '../../src/content/mail-template.js';
import { renderMessage } from '../../src/content/render.js';
import type { MailTemplateData, TemplateArgs } from '../../src/content/types.js';
import { publicReason, sanitizeText } from '../../src/errors.js';
import { loggerOptions } from '../../src/logger.js';

const MiB = 1 << 20;
/** Linear work on 1 MiB takes tens of milliseconds; the margin is for a loaded CI machine. */
const LIMIT_MS = 2000;

/** Shapes of 1 MiB (or `n`) that defeat backtracking patterns. */
function shapes(n = MiB): Record<string, string> {
  return {
    spaces: ' '.repeat(n),
    spacesThenX: `${' '.repeat(n - 1)}x`,
    letters: 'a'.repeat(n),
    digits: '7'.repeat(n),
    ats: '@'.repeat(n),
    localParts: 'a@'.repeat(n / 2),
    openBraces: '{{'.repeat(n / 2),
    trimMarkers: '{{- '.repeat(n / 4),
    lt: '<'.repeat(n),
    tags: '<a '.repeat(Math.floor(n / 3)),
    amp: '&a'.repeat(n / 2),
    backslashes: '\\'.repeat(n),
    percent: '%'.repeat(n),
    urlOpen: 'url('.repeat(n / 4),
    colons: ':'.repeat(n),
    slashes: '//a:'.repeat(n / 4),
    newlines: '\r\n'.repeat(n / 2),
    mixed: 'x:y@z/'.repeat(Math.floor(n / 6)),
  };
}

/**
 * The time of one linear pass over `n` characters with a per-character callback, on this
 * machine at this moment: the shared CI machine can be many times slower than an idle one,
 * so the bound is the larger of LIMIT_MS and 40 such passes. A quadratic pattern on 1 MiB
 * needs about a million passes.
 */
const baselines = new Map<number, number>();
function linearPassMs(n: number): number {
  let ms = baselines.get(n);
  if (ms === undefined) {
    const probe = 'ab<&'.repeat(Math.ceil(n / 4)).slice(0, n);
    const started = performance.now();
    probe.replace(/[\s\S]/g, (c) => (c === '<' ? '&lt;' : c));
    ms = performance.now() - started;
    baselines.set(n, ms);
  }
  return ms;
}

function timed(what: string, fn: () => unknown, size = MiB): void {
  const bound = Math.max(LIMIT_MS, 40 * linearPassMs(size));
  const started = performance.now();
  try {
    fn();
  } catch {
    // Refusing the input is fine; taking long is not.
  }
  const ms = performance.now() - started;
  expect(ms, `${what} took ${Math.round(ms)} ms (bound ${Math.round(bound)} ms)`).toBeLessThan(bound);
}

const baseArgs: TemplateArgs = { Code: '483921', DisplayName: 'Ada', UserName: 'ada', Origin: 'https://auth.example.com' };

describe('template paths', () => {
  it.each(Object.entries(shapes()))('Go template of 1 MiB: %s', (_name, input) => {
    timed('renderGoTemplate', () => renderGoTemplate(input, baseArgs));
  });

  it.each(Object.entries(shapes(TEMPLATE_LIMITS.sourceChars - 16)))('Go template just under the size cap: %s', (_name, input) => {
    timed('renderGoTemplate', () => renderGoTemplate(input, baseArgs));
    timed('renderGoTemplate in an action', () => renderGoTemplate(`{{${input}}}`, baseArgs));
    timed('renderGoTemplate in a string', () => renderGoTemplate(`{{"${input}"}}`, baseArgs));
  });

  it.each(Object.entries(shapes(TEMPLATE_LIMITS.sourceChars - 64)))('mail template just under the size cap: %s', (_name, input) => {
    const data = { Text: 'x', URL: 'https://a.example/?q=1', FontURL: 'https://f.example/f.ttf' } as unknown as MailTemplateData;
    timed('text', () => renderMailTemplate(input, data));
    timed('style', () => renderMailTemplate(`<style>${input}{{.Text}}</style>`, data));
    timed('attribute', () => renderMailTemplate(`<a href="${input}{{.URL}}" style="${input}{{.Text}}">x</a>`, data));
  });

  it('mail template printing many values into one style element and attribute', () => {
    const data = { Text: 'red', List: Array.from({ length: 10_000 }, () => 'v') } as unknown as MailTemplateData;
    timed('style values', () =>
      renderMailTemplate(`<style>a{color:{{range .List}}{{.}}{{end}}}</style><a style="b:{{range .List}}{{.}}{{end}}">x</a>`, data),
    );
  });

  it.each(Object.entries(shapes()))('1 MiB values in every arg, custom text and URL template: %s', (_name, input) => {
    const args: TemplateArgs = { ...baseArgs, DisplayName: input, UserName: input, FirstName: input, LoginNames: [input, input] };
    timed('renderMessage (values)', () =>
      renderMessage({ messageType: 'InitCode', language: input, channel: 'email', args, urlTemplate: 'https://a/{{.UserName}}' }),
    );
    timed('renderMessage (custom texts)', () =>
      renderMessage({
        messageType: 'InitCode',
        language: 'en',
        channel: 'sms',
        args: baseArgs,
        customTexts: { en: { Text: input, Subject: input } },
      }),
    );
    timed('renderMessage (URL template)', () =>
      renderMessage({ messageType: 'InitCode', language: 'en', channel: 'email', args: baseArgs, urlTemplate: input }),
    );
    timed('renderMessage (mail template)', () =>
      renderMessage({ messageType: 'InitCode', language: 'en', channel: 'email', args: baseArgs, mailTemplate: input }),
    );
  });

  it.each(Object.entries(shapes()))('layout, escapers and filters on 1 MiB: %s', (_name, input) => {
    // The layout's texts are rendered templates, so at most the output cap each; branding is raw.
    const text = input.slice(0, TEMPLATE_LIMITS.outputChars);
    timed('layout', () =>
      renderEmailLayout(
        { lang: text, title: text, preHeader: text, greeting: text, text, url: text, buttonText: text, footer: text },
        { primaryColor: input, backgroundColor: `rgb(${input})`, fontColor: input, fontFamily: input, fontUrl: `https://${input}`, logoUrl: input },
      ),
    );
    for (const [what, fn] of Object.entries({
      safeHref,
      escapeHtml,
      htmlEscaper,
      htmlNospaceEscaper,
      urlFilter,
      urlNormalizer,
      cssEscaper,
      cssValueFilter,
      unescapeHtml,
    })) {
      timed(what, () => fn(input));
    }
    timed('matchLanguage', () => matchLanguage(input, ['en', 'de', input]));
  });
});

describe('provider replies, error texts, names and URLs', () => {
  it.each(Object.entries(shapes()))('1 MiB: %s', (_name, input) => {
    const smtp = Object.assign(new Error(input), { code: 'EMESSAGE', responseCode: 550, response: input, command: input });
    timed('classifySmtpError', () => classifySmtpError(smtp));
    timed('assertSafeAddress', () => assertSafeAddress(input, 'to'));
    timed('safeSubject', () => safeSubject(input));
    timed('safeHeaderValue', () => safeHeaderValue(input));
    timed('publicReason', () => publicReason(new Error(input), [input.slice(0, 10)]));
    timed('sanitizeText', () => sanitizeText(input));
    timed('redactUrl', () => redactUrl(input));
    timed('redactUrl (scheme)', () => redactUrl(`smtp://${input}`));
    const out = new Writable({ write: (_c, _e, cb) => cb() });
    const logger = pino(loggerOptions({ logLevel: 'debug' }), out);
    timed('logger', () => logger.warn({ err: smtp, error: input, reason: input, response: input }, 'x'));
  });
});
