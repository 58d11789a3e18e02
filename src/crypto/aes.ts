/**
 * AES-256-CFB as ZITADEL's internal/crypto/aes.go does it: output is a 16-byte random IV
 * followed by the ciphertext, full 128-bit feedback (Go cipher.NewCFBEncrypter), which is
 * exactly OpenSSL's / Node's `aes-256-cfb`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { PermanentError } from '../errors.js';

export const AES_KEY_BYTES = 32;
export const AES_IV_BYTES = 16;

function checkKey(key: Buffer): void {
  // Message states lengths only: the key itself must never reach an error or a log.
  if (key.length !== AES_KEY_BYTES) {
    throw new PermanentError('CRYPTO_KEY_LENGTH', `AES key must be ${AES_KEY_BYTES} bytes, got ${key.length}`);
  }
}

/** Decrypt `IV || ciphertext`. Throws PermanentError on a short input or a wrong key length. */
export function decryptAesCfb(key: Buffer, data: Buffer): Buffer {
  checkKey(key);
  if (data.length < AES_IV_BYTES) {
    throw new PermanentError('CRYPTO_CORRUPT', `ciphertext is ${data.length} bytes, shorter than the ${AES_IV_BYTES}-byte IV`);
  }
  const decipher = createDecipheriv('aes-256-cfb', key, data.subarray(0, AES_IV_BYTES));
  return Buffer.concat([decipher.update(data.subarray(AES_IV_BYTES)), decipher.final()]);
}

/** Encrypt to `IV || ciphertext`, with a random IV unless one is given (tests, vectors). */
export function encryptAesCfb(key: Buffer, plaintext: Buffer, iv: Buffer = randomBytes(AES_IV_BYTES)): Buffer {
  checkKey(key);
  if (iv.length !== AES_IV_BYTES) {
    throw new PermanentError('CRYPTO_IV_LENGTH', `AES IV must be ${AES_IV_BYTES} bytes, got ${iv.length}`);
  }
  const cipher = createCipheriv('aes-256-cfb', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
}
