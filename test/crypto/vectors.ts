/** Test vectors from /work/shared/spec/crypto.md (checked against Go's crypto/cipher). */
export const USER_KEY = 'x8kQ2mZ7pL4vN9rT1wY6bH3cF5jD0gSa';
export const MASTERKEY = 'MasterkeyNeedsToHave32Characters';
export const STORED_USER_KEY = '8OHSw7Sllod4aVpLPC0eD84itFN3UcaGc8RzYeivbo_FFLPDNucXP9hrgMmH7ZTg';
export const VECTOR_IV = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

export const VECTORS = [
  { plaintext: 'ABC123', crypted: 'AAECAwQFBgcICQoLDA0OD1Qru7aOPw==' },
  {
    plaintext: 'V3ryL0ngC0deWithMoreThanSixteenBytes!',
    crypted: 'AAECAwQFBgcICQoLDA0OD0Naiv7wPDUKXOcjEIs65Px/2M5VWGK2K9r+jlPaMp0p2gE+KVM=',
  },
] as const;

export function cryptoValue(crypted: string, keyId = 'userKey'): Record<string, unknown> {
  return { CryptoType: 0, Algorithm: 'aes', KeyID: keyId, Crypted: crypted };
}

/** Go base64.URLEncoding: URL alphabet, padded. */
export function goUrlBase64(data: Buffer): string {
  return data.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
