/**
 * The keys that decrypt ZITADEL CryptoValues, by KeyID. Two sources (crypto.md):
 * raw keys from HERALD_ENCRYPTION_KEYS, or system.encryption_keys decrypted with the
 * ZITADEL masterkey. Keys and plaintexts never reach an error message or a log line.
 */
import { ConfigError, PermanentError } from '../errors.js';
import type { CryptoValue } from '../eventstore/notification-types.js';
import type { Queryable } from '../eventstore/types.js';
import type { Logger } from '../logger.js';
import { AES_IV_BYTES, AES_KEY_BYTES, decryptAesCfb, encryptAesCfb } from './aes.js';
import { CryptoType, decodeUrlBase64, parseCryptoValue, quoteUntrusted } from './value.js';

const SECOND = 1000;

export interface Keyring {
  /** Read system.encryption_keys when a masterkey is set; a no-op otherwise. */
  load(): Promise<void>;
  /** Decrypt a CryptoValue from an event payload. Throws PermanentError (code CRYPTO_*) when it never can. */
  decryptString(value: unknown): Promise<string>;
  encryptString(keyId: string, plaintext: string): Promise<CryptoValue>;
}

export interface KeySource {
  /** HERALD_ENCRYPTION_KEYS: KeyID → raw 32-character key. */
  readonly keys?: Readonly<Record<string, string>>;
  /** ZITADEL_MASTERKEY (32 characters). */
  readonly masterkey?: string;
}

export interface KeyringOptions {
  /**
   * Minimum time between two reads of system.encryption_keys, so a flood of unknown KeyIDs
   * costs one query per interval. A miss inside the interval waits for the next read.
   * @defaultValue 5 * SECOND
   */
  readonly minReloadIntervalMs?: number;
  /** @internal Test clock. */
  readonly clock?: { now(): number; delay(ms: number): Promise<void> };
}

interface EncryptionKeyRow {
  readonly id: string;
  readonly key: string;
}

const UNDEFINED_TABLE = '42P01';
const INVALID_SCHEMA_NAME = '3F000';

/** The table ZITADEL's `setup` creates; herald only reads it. */
export async function selectEncryptionKeys(db: Queryable): Promise<readonly EncryptionKeyRow[]> {
  try {
    const res = await db.query<EncryptionKeyRow>('SELECT id, key FROM system.encryption_keys');
    return res.rows;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === UNDEFINED_TABLE || code === INVALID_SCHEMA_NAME) {
      throw new ConfigError('ZITADEL_MASTERKEY is set but system.encryption_keys does not exist');
    }
    throw err;
  }
}

const realClock = {
  now: () => Date.now(),
  delay: (ms: number) =>
    new Promise<void>((resolve) => {
      // unref: a pending throttled reload must not keep the process alive at shutdown.
      setTimeout(resolve, ms).unref();
    }),
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function toKey(raw: string, what: string): Buffer {
  const key = Buffer.from(raw, 'utf8');
  if (key.length !== AES_KEY_BYTES) throw new ConfigError(`${what} must be ${AES_KEY_BYTES} bytes, got ${key.length}`);
  return key;
}

export function makeKeyring(source: KeySource, db: Queryable, logger?: Logger, options: KeyringOptions = {}): Keyring {
  const clock = options.clock ?? realClock;
  const minReloadIntervalMs = options.minReloadIntervalMs ?? 5 * SECOND;
  const staticKeys = new Map<string, Buffer>();
  for (const [id, raw] of Object.entries(source.keys ?? {})) {
    staticKeys.set(id, toKey(raw, `HERALD_ENCRYPTION_KEYS[${JSON.stringify(id)}]`));
  }
  const masterkey = source.masterkey === undefined ? undefined : toKey(source.masterkey, 'ZITADEL_MASTERKEY');

  let storedKeys = new Map<string, Buffer>();
  /** Rows whose key did not decrypt to an AES-256 key: reported as such rather than "not found". */
  let invalidIds = new Set<string>();
  let lastReadAt: number | undefined;
  let inflight: Promise<void> | undefined;

  async function readStoredKeys(mk: Buffer): Promise<void> {
    lastReadAt = clock.now(); // also on failure: a down database must not be hammered either
    const rows = await selectEncryptionKeys(db);
    const keys = new Map<string, Buffer>();
    const invalid = new Set<string>();
    for (const row of rows) {
      // Go's DecryptAESString yields "" on bad base64, which then fails the length check too.
      const data = decodeUrlBase64(row.key);
      const key = data !== undefined && data.length >= AES_IV_BYTES ? decryptAesCfb(mk, data) : undefined;
      if (key?.length === AES_KEY_BYTES) {
        keys.set(row.id, key);
      } else {
        invalid.add(row.id);
        logger?.warn({ keyId: row.id }, 'stored encryption key does not decrypt to a 32-byte key with ZITADEL_MASTERKEY; skipped');
      }
    }
    storedKeys = keys;
    invalidIds = invalid;
  }

  /** Single-flight, throttled re-read: every caller inside one interval shares one query. */
  function reload(mk: Buffer): Promise<void> {
    inflight ??= (async () => {
      const wait = lastReadAt === undefined ? 0 : lastReadAt + minReloadIntervalMs - clock.now();
      if (wait > 0) await clock.delay(wait);
      await readStoredKeys(mk);
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function known(keyId: string): Buffer | undefined {
    return staticKeys.get(keyId) ?? storedKeys.get(keyId);
  }

  function assertHasSource(): void {
    if (masterkey === undefined && staticKeys.size === 0) {
      throw new PermanentError('CRYPTO_NO_KEYS', 'no encryption keys configured: set ZITADEL_MASTERKEY or HERALD_ENCRYPTION_KEYS');
    }
  }

  async function keyFor(keyId: string): Promise<Buffer> {
    assertHasSource();
    const hit = known(keyId);
    if (hit) return hit;
    // A key ZITADEL created after our last read is found here; static keys never change.
    if (masterkey !== undefined) await reload(masterkey);
    const found = known(keyId);
    if (found) return found;
    if (invalidIds.has(keyId)) {
      throw new PermanentError(
        'CRYPTO_KEY_INVALID',
        `encryption key ${quoteUntrusted(keyId)} in system.encryption_keys does not decrypt with ZITADEL_MASTERKEY`,
      );
    }
    throw new PermanentError('CRYPTO_KEY_NOT_FOUND', `encryption key ${quoteUntrusted(keyId)} is not configured`);
  }

  return {
    async load() {
      if (masterkey !== undefined) await reload(masterkey);
    },

    async decryptString(value) {
      assertHasSource();
      const { keyId, crypted } = parseCryptoValue(value);
      const key = await keyFor(keyId);
      const plain = decryptAesCfb(key, crypted);
      try {
        return utf8.decode(plain);
      } catch {
        throw new PermanentError('CRYPTO_UTF8', `value decrypted with key ${quoteUntrusted(keyId)} is not valid UTF-8`);
      } finally {
        plain.fill(0);
      }
    },

    async encryptString(keyId, plaintext) {
      const key = await keyFor(keyId);
      const crypted = encryptAesCfb(key, Buffer.from(plaintext, 'utf8'));
      return { CryptoType: CryptoType.encryption, Algorithm: 'aes', KeyID: keyId, Crypted: crypted.toString('base64') };
    },
  };
}
