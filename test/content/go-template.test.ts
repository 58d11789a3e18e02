import { describe, expect, it } from 'vitest';

import { escapeHtml, MAX_TEMPLATE_OUTPUT, renderGoTemplate } from '../../src/content/go-template.js';
import type { TemplateArgs } from '../../src/content/types.js';
import { isPermanent } from '../../src/errors.js';

const data: TemplateArgs = {
  Name: 'Ada',
  Empty: '',
  Yes: true,
  No: false,
  List: ['a', 'b'],
  None: [],
  Num: 42,
  Nil: null,
  Q: 'a b&c/d?é!',
};

function expectInvalid(tmpl: string, args: TemplateArgs = data, code = 'TEMPLATE_INVALID'): void {
  let caught: unknown;
  try {
    renderGoTemplate(tmpl, args);
  } catch (err) {
    caught = err;
  }
  expect(isPermanent(caught), `expected TEMPLATE_INVALID for ${tmpl}`).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

describe('renderGoTemplate', () => {
  it.each([
    ['plain text', 'plain text'],
    ['Hi {{.Name}}!', 'Hi Ada!'],
    ['Hi {{ .Name }}!', 'Hi Ada!'],
    ['{{.Missing}}', '<no value>'],
    ['{{.Nil}}', '<no value>'],
    ['{{.Yes}}/{{.No}}', 'true/false'],
    ['{{.List}}|{{.None}}', '[a b]|[]'],
    ['{{.Num}}', '42'],
    ['a  {{- .Name -}}  b', 'aAdab'],
    ['a \n {{- .Name}} b', 'aAda b'],
    ['{{.Name -}}\n\n  x', 'Adax'],
    ['{{if .Name}}yes{{end}}', 'yes'],
    ['{{if .Empty}}yes{{else}}no{{end}}', 'no'],
    ['{{if .Missing}}yes{{else}}no{{end}}', 'no'],
    ['{{if .No}}1{{else if .Yes}}2{{else}}3{{end}}', '2'],
    ['{{if .No}}1{{else if .Empty}}2{{else}}3{{end}}', '3'],
    ['{{if .None}}1{{else}}empty{{end}}', 'empty'],
    ['{{range .List}}<{{.}}>{{end}}', '<a><b>'],
    ['{{range .None}}x{{else}}none{{end}}', 'none'],
    ['{{range .Missing}}x{{else}}none{{end}}', 'none'],
    ['{{range .List}}{{$.Name}}{{end}}', 'AdaAda'],
    ['{{with .Name}}[{{.}}]{{end}}{{with .Empty}}x{{else}}-{{end}}', '[Ada]-'],
    ['a{{/* a comment */}}b', 'ab'],
    ['a {{- /* trimmed */ -}} b', 'ab'],
    ['{{.Q | urlquery}}', 'a+b%26c%2Fd%3F%C3%A9%21'],
    ['{{urlquery .Q}}', 'a+b%26c%2Fd%3F%C3%A9%21'],
    ['{{html "<a href=\'x\'>&\\""}}', '&lt;a href=&#39;x&#39;&gt;&amp;&#34;'],
    ['{{printf "%s-%d" .Name .Num}}', 'Ada-42'],
    ['{{if eq .Name "Ada"}}me{{end}}', 'me'],
    ['{{if and .Name (not .Empty)}}ok{{end}}', 'ok'],
    ['{{"}}"}} {{`raw`}}', '}} raw'],
    ['{{len .List}}', '2'],
  ])('%s', (tmpl, want) => {
    expect(renderGoTemplate(tmpl, data)).toBe(want);
  });

  it('prints values from the data literally, never as template', () => {
    expect(renderGoTemplate('{{.X}}', { X: '{{.Name}}' })).toBe('{{.Name}}');
  });

  it('applies escape to printed values only, not to the template text', () => {
    const out = renderGoTemplate('<b>{{.X}}</b>', { X: '<i>&' }, { escape: escapeHtml });
    expect(out).toBe('<b>&lt;i&gt;&amp;</b>');
  });

  it('escapeHtml matches Go html.EscapeString', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it.each([
    '{{.Name',
    'x {{',
    '{{.Name}',
    '{{nope .Name}}',
    '{{.Name | nope}}',
    '{{if .Name}}open',
    '{{range .List}}open',
    '{{end}}',
    '{{else}}',
    '{{.A.B}}',
    '{{$.A.B}}',
    '{{$x := .Name}}',
    '{{}}',
    '{{template "x"}}',
    '{{define "x"}}{{end}}',
    '{{/* unclosed',
    '{{.Name .Yes}}',
    '{{.Name | .Yes}}',
    '{{ (.Name }}',
    '{{"unterminated}}',
    '{{range .Name}}{{end}}',
    '{{range .List}}{{.Field}}{{end}}',
    "{{'c'}}",
  ])('rejects %s with TEMPLATE_INVALID', (tmpl) => {
    expectInvalid(tmpl);
  });

  it('bounds the output size', () => {
    const big = 'x'.repeat(1024);
    const list = Array.from({ length: 64 }, () => big);
    expect(renderGoTemplate('{{range .L}}{{.}}{{end}}', { L: list })).toHaveLength(64 * 1024);
    expectInvalid('{{range .L}}{{range $.L}}{{.}}{{end}}{{end}}', { L: list }, 'TEMPLATE_BUDGET');
    expect(MAX_TEMPLATE_OUTPUT).toBe(256 * 1024);
  });

  it('bounds the nesting depth', () => {
    const deep = '{{if .Name}}'.repeat(100) + 'x' + '{{end}}'.repeat(100);
    expectInvalid(deep, data, 'TEMPLATE_BUDGET');
    const parens = '{{print ' + '('.repeat(100) + '.Name' + ')'.repeat(100) + '}}';
    expectInvalid(parens, data, 'TEMPLATE_BUDGET');
  });
});
