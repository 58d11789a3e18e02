/** redactUrl (issue #11 item 9): a password containing `@` leaked its tail. */
import { expect, it } from 'vitest';

import { redactUrl } from '../../src/config/problems.js';

it.each([
  ['smtp://user:p@ss@mail.example:587', ['p@ss', 'ss@', 'user']],
  ['redis://:hunt@r2@redis:6379/0', ['hunt', 'r2@']],
  ['postgres://admin:s3cr%40t@db/x', ['s3cr', 'admin']],
  ['smtp://apikey@relay.example', ['apikey']],
  ['smtp://us er:pa ss@host', ['pa ss', 'us er']],
  ['not a url user:pass@host', ['pass']],
  ['host:25:pw@evil', ['pw']],
])('%s', (url, secrets) => {
  const shown = redactUrl(url);
  for (const s of secrets) expect(shown).not.toContain(s);
});

it('keeps what helps to find the setting: scheme, host, port, path', () => {
  expect(redactUrl('smtp://user:p@ss@mail.example:587/x')).toBe('smtp://***@mail.example:587/x');
  expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
});

it('is linear on long input', () => {
  const started = performance.now();
  redactUrl(`//${':'.repeat(1 << 20)}`);
  redactUrl(`//a:${'@'.repeat(1 << 20)}`);
  expect(performance.now() - started).toBeLessThan(1000);
});
