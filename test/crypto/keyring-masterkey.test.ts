/** The ZITADEL_MASTERKEY path: keys read from system.encryption_keys in a real Postgres. */
import { randomBytes } from 'node:crypto';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encryptAesCfb, makeKeyring } from '../../src/crypto/index.js';
import { isConfigError } from '../../src/errors.js';
import type { Queryable } from '../../src/eventstore/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { cryptoValue, goUrlBase64, MASTERKEY, STORED_USER_KEY, USER_KEY, VECTOR_IV, VECTORS } from './vectors.js';

// The DDL as ZITADEL's setup creates it (crypto.md).
const DDL = 'CREATE SCHEMA system; CREATE TABLE system.encryption_keys (id TEXT NOT NULL PRIMARY KEY, key TEXT NOT NULL)';

let db: TestDatabase;
let noTable: TestDatabase;

beforeAll(async () => {
  [db, noTable] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await db.pool.query(DDL);
  await insertKey('userKey', STORED_USER_KEY);
});

afterAll(async () => {
  await Promise.all([db?.drop(), noTable?.drop()]);
});

async function insertKey(id: string, key: string): Promise<void> {
  await db.pool.query('INSERT INTO system.encryption_keys (id, key) VALUES ($1, $2)', [id, key]);
}

/** The real pool, counting the queries the keyring sends. */
function counting(): { db: Queryable; count: () => number } {
  let n = 0;
  const query = ((text: string) => {
    n += 1;
    return db.pool.query(text);
  }) as Queryable['query'];
  return { db: { query }, count: () => n };
}

/** A clock whose delay() returns at once but records the wait and advances time. */
function fakeClock(): { clock: { now(): number; delay(ms: number): Promise<void> }; delays: number[] } {
  let t = 1_000_000;
  const delays: number[] = [];
  return {
    delays,
    clock: {
      now: () => t,
      delay: (ms) => {
        delays.push(ms);
        t += ms;
        return Promise.resolve();
      },
    },
  };
}

describe('keyring with ZITADEL_MASTERKEY', () => {
  it.each(VECTORS)('decrypts the crypto.md vector for $plaintext via the stored userKey', async (vector) => {
    const { plaintext, crypted } = vector;
    const keyring = makeKeyring({ masterkey: MASTERKEY }, db.pool);
    await keyring.load();
    expect(await keyring.decryptString(cryptoValue(crypted))).toBe(plaintext);
  });

  it('reads the table on the first decrypt when load() was not called', async () => {
    const keyring = makeKeyring({ masterkey: MASTERKEY }, db.pool);
    expect(await keyring.decryptString(cryptoValue(VECTORS[0].crypted))).toBe(VECTORS[0].plaintext);
  });

  it('fails load() with a ConfigError when system.encryption_keys does not exist', async () => {
    const keyring = makeKeyring({ masterkey: MASTERKEY }, noTable.pool);
    const err: unknown = await keyring.load().catch((e: unknown) => e);
    expect(isConfigError(err)).toBe(true);
    expect((err as Error).message).toBe('ZITADEL_MASTERKEY is set but system.encryption_keys does not exist');
  });

  it('finds a key inserted after load() by re-reading, waiting out the reload interval', async () => {
    const { clock, delays } = fakeClock();
    const q = counting();
    const keyring = makeKeyring({ masterkey: MASTERKEY }, q.db, undefined, { clock, minReloadIntervalMs: 5000 });
    await keyring.load();
    expect(q.count()).toBe(1);

    const rawKey = randomBytes(16).toString('hex'); // 32 characters, as ZITADEL keys are
    await insertKey('lateKey', goUrlBase64(encryptAesCfb(Buffer.from(MASTERKEY), Buffer.from(rawKey))));
    const value = encryptAesCfb(Buffer.from(rawKey), Buffer.from('424242'), VECTOR_IV).toString('base64');

    expect(await keyring.decryptString(cryptoValue(value, 'lateKey'))).toBe('424242');
    expect(q.count()).toBe(2);
    expect(delays).toEqual([5000]);
    // Now known: no further reads.
    expect(await keyring.decryptString(cryptoValue(value, 'lateKey'))).toBe('424242');
    expect(q.count()).toBe(2);
  });

  it('shares one read among a flood of unknown KeyIDs and throttles the next one', async () => {
    const { clock, delays } = fakeClock();
    const q = counting();
    const keyring = makeKeyring({ masterkey: MASTERKEY }, q.db, undefined, { clock, minReloadIntervalMs: 3000 });
    await keyring.load();
    const flood = Array.from({ length: 25 }, (_, i) => keyring.decryptString(cryptoValue(VECTORS[0].crypted, `bogus${i}`)).catch((e: unknown) => e));
    const errors = await Promise.all(flood);
    expect(errors.every((e) => (e as { code?: string }).code === 'CRYPTO_KEY_NOT_FOUND')).toBe(true);
    expect((errors[7] as Error).message).toContain('"bogus7"');
    expect(q.count()).toBe(2); // load + one shared re-read
    expect(delays).toEqual([3000]);

    await expect(keyring.decryptString(cryptoValue(VECTORS[0].crypted, 'bogusAgain'))).rejects.toMatchObject({
      code: 'CRYPTO_KEY_NOT_FOUND',
    });
    expect(q.count()).toBe(3);
    expect(delays).toEqual([3000, 3000]);
  });

  it('skips a stored key that does not decrypt to 32 bytes, logging only its id', async () => {
    const wrongLength = goUrlBase64(encryptAesCfb(Buffer.from(MASTERKEY), randomBytes(16)));
    await insertKey('shortKey', wrongLength);
    await insertKey('notBase64', 'this is not base64!');
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const keyring = makeKeyring({ masterkey: MASTERKEY }, db.pool, logger, { minReloadIntervalMs: 0 });
    await keyring.load();

    const warned = lines.map((l) => JSON.parse(l) as { level: number; keyId?: string });
    expect(
      warned
        .filter((l) => l.level === 40)
        .map((l) => l.keyId)
        .sort(),
    ).toEqual(['notBase64', 'shortKey']);
    const log = lines.join('\n');
    for (const secret of [MASTERKEY, USER_KEY, STORED_USER_KEY, wrongLength, 'this is not base64!']) {
      expect(log).not.toContain(secret);
    }

    const shortValue = cryptoValue(VECTORS[0].crypted, 'shortKey');
    const err: unknown = await keyring.decryptString(shortValue).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PermanentError', code: 'CRYPTO_KEY_INVALID' });
    expect((err as Error).message).toContain('"shortKey"');
    expect((err as Error).message).not.toContain(wrongLength);
    // The good key in the same table is unaffected.
    expect(await keyring.decryptString(cryptoValue(VECTORS[1].crypted))).toBe(VECTORS[1].plaintext);
  });

  it('encrypts with a stored key so that a second keyring decrypts it', async () => {
    const a = makeKeyring({ masterkey: MASTERKEY }, db.pool);
    const b = makeKeyring({ keys: { userKey: USER_KEY } }, db.pool);
    await a.load();
    expect(await b.decryptString(await a.encryptString('userKey', 'Sécret-123'))).toBe('Sécret-123');
  });
});
