import { describe, expect, it } from 'vitest';

import { decodeStdBase64, decodeUrlBase64, decryptAesCfb, encryptAesCfb } from '../../src/crypto/index.js';
import { isPermanent } from '../../src/errors.js';
import { MASTERKEY, STORED_USER_KEY, USER_KEY, VECTOR_IV, VECTORS } from './vectors.js';

const key = Buffer.from(USER_KEY);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(isPermanent(err)).toBe(true);
    return (err as { code: string }).code;
  }
  return undefined;
}

describe('AES-256-CFB', () => {
  it.each(VECTORS)('decrypts the crypto.md vector for $plaintext', ({ plaintext, crypted }) => {
    expect(decryptAesCfb(key, Buffer.from(crypted, 'base64')).toString('utf8')).toBe(plaintext);
  });

  it.each(VECTORS)('encrypts $plaintext to the crypto.md vector with the fixed IV', ({ plaintext, crypted }) => {
    expect(encryptAesCfb(key, Buffer.from(plaintext), VECTOR_IV).toString('base64')).toBe(crypted);
  });

  it('decrypts the stored userKey with the masterkey', () => {
    const data = decodeUrlBase64(STORED_USER_KEY);
    expect(data).toBeDefined();
    expect(decryptAesCfb(Buffer.from(MASTERKEY), data ?? Buffer.alloc(0)).toString('utf8')).toBe(USER_KEY);
  });

  it('round-trips with a random IV that differs per call', () => {
    const plain = Buffer.from('päßwörd ✓ and more than one block of text');
    const a = encryptAesCfb(key, plain);
    const b = encryptAesCfb(key, plain);
    expect(a.length).toBe(16 + plain.length);
    expect(a.subarray(0, 16).equals(b.subarray(0, 16))).toBe(false);
    expect(decryptAesCfb(key, a).equals(plain)).toBe(true);
  });

  it('decrypts a bare 16-byte IV to an empty plaintext, as Go does', () => {
    expect(decryptAesCfb(key, VECTOR_IV).length).toBe(0);
  });

  it('rejects data shorter than the IV with a PermanentError', () => {
    expect(codeOf(() => decryptAesCfb(key, Buffer.alloc(15)))).toBe('CRYPTO_CORRUPT');
  });

  it('rejects a key that is not 32 bytes with a PermanentError', () => {
    expect(codeOf(() => decryptAesCfb(Buffer.alloc(16), Buffer.alloc(32)))).toBe('CRYPTO_KEY_LENGTH');
    expect(codeOf(() => encryptAesCfb(Buffer.alloc(33), Buffer.from('x')))).toBe('CRYPTO_KEY_LENGTH');
  });
});

describe('strict base64', () => {
  it('accepts exactly padded standard base64', () => {
    expect(decodeStdBase64('QUJD')?.toString()).toBe('ABC');
    expect(decodeStdBase64('QUI=')?.toString()).toBe('AB');
    expect(decodeStdBase64('QQ==')?.toString()).toBe('A');
    expect(decodeStdBase64('')?.length).toBe(0);
  });

  it.each(['QUI', 'QQ', 'Q===', 'QU!D', 'QU D', 'QUJD\n', 'QU-_', 'QQ==QUJD'])('rejects standard %j', (text) => {
    expect(decodeStdBase64(text)).toBeUndefined();
  });

  it('accepts padded URL-safe base64 and rejects the standard alphabet or missing padding', () => {
    expect(decodeUrlBase64('-_-_')?.toString('hex')).toBe('fbffbf');
    expect(decodeUrlBase64('+/+/')).toBeUndefined();
    expect(decodeUrlBase64('QUI')).toBeUndefined();
  });
});
