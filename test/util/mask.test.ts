import { describe, expect, it } from 'vitest';

import { maskRecipient } from '../../src/util/mask.js';

describe('maskRecipient', () => {
  it('keeps the first letter and the domain of an address', () => {
    expect(maskRecipient('alice@example.com')).toBe('a***@example.com');
    expect(maskRecipient('x@y.ch')).toBe('x***@y.ch');
  });
  it('keeps the country code and the last two digits of a phone number', () => {
    expect(maskRecipient('+41791234519')).toBe('+41*******19');
    expect(maskRecipient('+41 79 123 45 19')).toBe('+41*******19');
  });
  it('hides short values completely and never returns the input', () => {
    expect(maskRecipient('12345')).toBe('*****');
    for (const v of ['bob@example.org', '+15551234567', '0791234567']) expect(maskRecipient(v)).not.toBe(v);
  });
  it('bounds long input', () => {
    expect(maskRecipient(`${'a'.repeat(100_000)}@example.com`).length).toBeLessThan(400);
  });
});
