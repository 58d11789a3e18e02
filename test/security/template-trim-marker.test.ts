/**
 * Quadratic regexes in the template scanner (issue #11 item 3): 80 000 spaces before `{{-`
 * took 13 s. Trimming is linear now.
 */
import { expect, it } from 'vitest';

import { renderGoTemplate } from '../../src/content/go-template.js';

it('trims a long run of spaces before {{- in linear time', () => {
  const started = performance.now();
  // The spaces are followed by a non-space: the run cannot be trimmed, the scan must not retry it.
  const out = renderGoTemplate(`${' '.repeat(80_000)}x{{- .Name}}`, { Name: 'n' });
  expect(performance.now() - started).toBeLessThan(500);
  expect(out).toBe(`${' '.repeat(80_000)}xn`);
});

it('still trims the whitespace right before {{-', () => {
  expect(renderGoTemplate(`a \t\r\n {{- .Name}}`, { Name: 'n' })).toBe('an');
  expect(renderGoTemplate(`   {{- .Name}}`, { Name: 'n' })).toBe('n');
});
