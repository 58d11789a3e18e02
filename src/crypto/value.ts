/**
 * Validation of a CryptoValue taken from an untrusted event payload, and the strict base64
 * decoders Go's encoding/base64 implies (Node's Buffer.from silently skips bad characters).
 */
import { PermanentError } from '../errors.js';
import type { CryptoValue } from '../eventstore/notification-types.js';
import { AES_IV_BYTES } from './aes.js';

/** crypto.CryptoType in ZITADEL. */
export const CryptoType = { encryption: 0, hash: 1 } as const;

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL_BASE64 = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/;

/** Go base64.StdEncoding (padded); undefined when the text is not exactly that. */
export function decodeStdBase64(text: string): Buffer | undefined {
  return STD_BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** Go base64.URLEncoding (URL alphabet, padded); undefined when the text is not exactly that. */
export function decodeUrlBase64(text: string): Buffer | undefined {
  return URL_BASE64.test(text) ? Buffer.from(text, 'base64url') : undefined;
}

/** Untrusted text for messages: quoted and bounded, since it comes from untrusted input. */
export function quoteUntrusted(keyId: string): string {
  return JSON.stringify(keyId.length > 64 ? `${keyId.slice(0, 64)}…` : keyId);
}

function malformed(what: string): PermanentError {
  return new PermanentError('CRYPTO_MALFORMED', `encrypted value is malformed: ${what}`);
}

export interface ParsedCryptoValue {
  readonly keyId: string;
  /** IV || ciphertext. */
  readonly crypted: Buffer;
}

/**
 * Check shape first (so garbage never triggers a key reload), then type and algorithm.
 * Unknown extra fields are ignored, as Go's json.Unmarshal does.
 */
export function parseCryptoValue(value: unknown): ParsedCryptoValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('not an object');
  }
  const v = value as Partial<Record<keyof CryptoValue, unknown>>;
  if (typeof v.CryptoType !== 'number' || !Number.isInteger(v.CryptoType)) {
    throw malformed('CryptoType is missing or not an integer');
  }
  if (v.CryptoType === CryptoType.hash) {
    throw new PermanentError('CRYPTO_HASHED', 'value is a hash (CryptoType 1) and cannot be decrypted');
  }
  if (v.CryptoType !== CryptoType.encryption) {
    throw malformed(`unknown CryptoType ${v.CryptoType}`);
  }
  if (typeof v.Algorithm !== 'string') throw malformed('Algorithm is missing or not a string');
  if (typeof v.KeyID !== 'string' || v.KeyID === '') throw malformed('KeyID is missing or empty');
  if (typeof v.Crypted !== 'string') throw malformed('Crypted is missing or not a string');
  if (v.Algorithm !== 'aes') {
    throw new PermanentError('CRYPTO_ALGORITHM', `unsupported algorithm ${quoteUntrusted(v.Algorithm)} (only "aes")`);
  }
  const crypted = decodeStdBase64(v.Crypted);
  if (crypted === undefined) throw malformed('Crypted is not standard padded base64');
  // Checked before the key lookup so that garbage never triggers a key reload.
  if (crypted.length < AES_IV_BYTES) {
    throw new PermanentError('CRYPTO_CORRUPT', `ciphertext is ${crypted.length} bytes, shorter than the ${AES_IV_BYTES}-byte IV`);
  }
  return { keyId: v.KeyID, crypted };
}
