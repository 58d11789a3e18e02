/** The HERALD_ENCRYPTION_KEYS path and the classification of every bad value. */
import { describe, expect, it } from 'vitest';

import { encryptAesCfb, makeKeyring } from '../../src/crypto/index.js';
import { isConfigError, isPermanent } from '../../src/errors.js';
import type { Queryable } from '../../src/eventstore/types.js';
import { cryptoValue, USER_KEY, VECTOR_IV, VECTORS } from './vectors.js';

/** Static keys never touch the database: any query fails the test. */
const noDb: Queryable = {
  query: (() => {
    throw new Error('static keys must not query the database');
  }) as Queryable['query'],
};

const keyring = makeKeyring({ keys: { userKey: USER_KEY } }, noDb);

async function failure(value: unknown, ring = keyring): Promise<{ code: string; message: string }> {
  const err: unknown = await ring.decryptString(value).then(
    () => expect.fail('decryptString should have thrown'),
    (e: unknown) => e,
  );
  expect(isPermanent(err)).toBe(true);
  const { code, message } = err as { code: string; message: string };
  // Neither the key nor any plaintext may leak into a message.
  expect(message).not.toContain(USER_KEY);
  for (const v of VECTORS) expect(message).not.toContain(v.plaintext);
  return { code, message };
}

const valid = VECTORS[0].crypted;

describe('keyring with HERALD_ENCRYPTION_KEYS', () => {
  it.each(VECTORS)('decrypts the crypto.md vector for $plaintext', async ({ plaintext, crypted }) => {
    await keyring.load();
    expect(await keyring.decryptString(cryptoValue(crypted))).toBe(plaintext);
  });

  it('round-trips encryptString → decryptString, keeping non-ASCII text and a leading BOM', async () => {
    for (const plaintext of ['123456', 'Grüße ✓ 🎉', '\uFEFFbom', '']) {
      const value = await keyring.encryptString('userKey', plaintext);
      expect(value).toMatchObject({ CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey' });
      expect(Buffer.from(value.Crypted, 'base64').length).toBe(16 + Buffer.byteLength(plaintext));
      expect(await keyring.decryptString(value)).toBe(plaintext);
    }
  });

  it('decrypts values that carry extra unknown fields', async () => {
    const value = { ...cryptoValue(valid), Extra: 'x', Nested: { a: 1 } };
    expect(await keyring.decryptString(value)).toBe(VECTORS[0].plaintext);
  });

  it.each([
    ['null', null],
    ['a string', valid],
    ['an array', [cryptoValue(valid)]],
    ['an empty object', {}],
    ['a missing Crypted', { CryptoType: 0, Algorithm: 'aes', KeyID: 'userKey' }],
    ['a missing CryptoType', { Algorithm: 'aes', KeyID: 'userKey', Crypted: valid }],
    ['a string CryptoType', { ...cryptoValue(valid), CryptoType: '0' }],
    ['an unknown CryptoType', { ...cryptoValue(valid), CryptoType: 2 }],
    ['a numeric KeyID', { ...cryptoValue(valid), KeyID: 5 }],
    ['an empty KeyID', cryptoValue(valid, '')],
    ['a non-string Algorithm', { ...cryptoValue(valid), Algorithm: null }],
    ['a byte-array Crypted', { ...cryptoValue(valid), Crypted: [1, 2, 3] }],
    ['Crypted with a character outside the alphabet', cryptoValue(`*${valid.slice(1)}`)],
    ['Crypted with whitespace', cryptoValue(`${valid.slice(0, 8)} ${valid.slice(8)}`)],
    ['Crypted in the URL alphabet', cryptoValue(VECTORS[1].crypted.replace('/', '_').replace('+', '-'))],
    ['Crypted without padding', cryptoValue(valid.replace(/=+$/, ''))],
  ])('rejects %s as CRYPTO_MALFORMED', async (_name, value) => {
    expect((await failure(value)).code).toBe('CRYPTO_MALFORMED');
  });

  it('rejects a hashed value (CryptoType 1) as CRYPTO_HASHED', async () => {
    expect((await failure({ CryptoType: 1, Algorithm: 'bcrypt', KeyID: '', Crypted: 'JDJh' })).code).toBe('CRYPTO_HASHED');
  });

  it('rejects another algorithm as CRYPTO_ALGORITHM', async () => {
    expect((await failure({ ...cryptoValue(valid), Algorithm: 'rsa' })).code).toBe('CRYPTO_ALGORITHM');
  });

  it('rejects an unknown KeyID as CRYPTO_KEY_NOT_FOUND, naming the KeyID', async () => {
    const { code, message } = await failure(cryptoValue(valid, 'smtpKey'));
    expect(code).toBe('CRYPTO_KEY_NOT_FOUND');
    expect(message).toContain('"smtpKey"');
    await expect(keyring.encryptString('smtpKey', 'x')).rejects.toMatchObject({ code: 'CRYPTO_KEY_NOT_FOUND' });
  });

  it('rejects ciphertext shorter than the IV as CRYPTO_CORRUPT', async () => {
    expect((await failure(cryptoValue('AAECAwQFBgcICQoLDA0O'))).code).toBe('CRYPTO_CORRUPT');
  });

  it('rejects a plaintext that is not UTF-8 as CRYPTO_UTF8', async () => {
    const bad = encryptAesCfb(Buffer.from(USER_KEY), Buffer.from([0x31, 0xff, 0xfe, 0x32]), VECTOR_IV);
    expect((await failure(cryptoValue(bad.toString('base64')))).code).toBe('CRYPTO_UTF8');
  });

  it('without any key source, every decrypt is CRYPTO_NO_KEYS and names both settings', async () => {
    const empty = makeKeyring({}, noDb);
    await empty.load();
    for (const value of [cryptoValue(valid), { CryptoType: 1 }, null]) {
      const { code, message } = await failure(value, empty);
      expect(code).toBe('CRYPTO_NO_KEYS');
      expect(message).toContain('ZITADEL_MASTERKEY');
      expect(message).toContain('HERALD_ENCRYPTION_KEYS');
    }
  });

  it('refuses a configured key that is not 32 bytes with a ConfigError that does not show it', () => {
    let err: unknown;
    try {
      makeKeyring({ keys: { userKey: 'tooShortSecret' } }, noDb);
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toContain('userKey');
    expect((err as Error).message).not.toContain('tooShortSecret');
  });
});
