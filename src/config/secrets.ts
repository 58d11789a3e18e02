/**
 * ZITADEL_MASTERKEY and HERALD_ENCRYPTION_KEYS. Problems name the variable and the key ID,
 * never the key itself.
 */
import type { Problems } from './problems.js';

/** Both ZITADEL's masterkey and its encryption keys are AES-256 keys. */
const KEY_BYTES = 32;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function checkMasterkey(problems: Problems, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (byteLength(value) === KEY_BYTES) return value;
  problems.add('ZITADEL_MASTERKEY', `must be exactly ${KEY_BYTES} bytes (got ${byteLength(value)})`);
  return undefined;
}

export function checkEncryptionKeys(problems: Problems, value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const name = 'HERALD_ENCRYPTION_KEYS';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // JSON.parse's message quotes the input, which holds the keys: say only that it failed.
    problems.add(name, 'not valid JSON (expected {"<keyID>": "<32-byte key>"})');
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.add(name, 'must be a JSON object {"<keyID>": "<32-byte key>"}');
    return undefined;
  }
  const entries = Object.entries(parsed);
  if (entries.length === 0) problems.add(name, 'contains no keys');
  const keys: Record<string, string> = {};
  for (const [id, key] of entries) {
    const where = `${name}[${JSON.stringify(id)}]`;
    if (typeof key !== 'string') {
      problems.add(where, 'the key must be a string');
    } else if (byteLength(key) !== KEY_BYTES) {
      problems.add(where, `the key must be exactly ${KEY_BYTES} bytes (got ${byteLength(key)})`);
    } else {
      keys[id] = key;
    }
  }
  return keys;
}
