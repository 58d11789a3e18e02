export { AES_IV_BYTES, AES_KEY_BYTES, decryptAesCfb, encryptAesCfb } from './aes.js';
export type { Keyring, KeyringOptions, KeySource } from './keyring.js';
export { makeKeyring, selectEncryptionKeys } from './keyring.js';
export { CryptoType, decodeStdBase64, decodeUrlBase64, parseCryptoValue } from './value.js';
