/**
 * Builders for events as ZITADEL writes them (zitadel-facts.md §3, §6): users, requests
 * with an AES-CFB encrypted code, retry events with a NotifyUser snapshot.
 * Independent of herald's own code on purpose.
 */
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';

import type pg from 'pg';

import { insertZitadelEvents } from './events.js';

/** userKey from crypto.md's test vectors. */
export const USER_KEY = 'x8kQ2mZ7pL4vN9rT1wY6bH3cF5jD0gSa';
export const KEYS_ENV = JSON.stringify({ userKey: USER_KEY });

export function newId(): string {
  return `${Date.now()}${randomInt(100000, 999999)}`;
}

export function encryptCode(code: string, keyId = 'userKey', key = USER_KEY) {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cfb', Buffer.from(key), iv);
  const crypted = Buffer.concat([iv, cipher.update(code, 'utf8'), cipher.final()]).toString('base64');
  return { CryptoType: 0, Algorithm: 'aes', KeyID: keyId, Crypted: crypted };
}

export interface DemoUser {
  readonly instanceId: string;
  readonly orgId: string;
  readonly userId: string;
  readonly email: string;
}

/** A human user with a verified email (and phone) in a fresh org. */
export async function seedUser(
  pool: pg.Pool,
  opts: { instanceId: string; email?: string; phone?: string; language?: string; displayName?: string; verified?: boolean },
): Promise<DemoUser> {
  const orgId = newId();
  const userId = newId();
  const email = opts.email ?? `user${userId}@example.com`;
  const owner = orgId;
  const base = { instanceId: opts.instanceId, aggregateType: 'user', aggregateId: userId, owner };
  await insertZitadelEvents(pool, [
    {
      ...base,
      eventType: 'user.human.added',
      payload: {
        userName: `user${userId}`,
        firstName: 'Test',
        lastName: 'User',
        displayName: opts.displayName ?? 'Test User',
        preferredLanguage: opts.language ?? 'en',
        email,
        ...(opts.phone ? { phone: opts.phone } : {}),
      },
    },
    ...(opts.verified === false ? [] : [{ ...base, eventType: 'user.human.email.verified', payload: null }]),
    ...(opts.phone && opts.verified !== false ? [{ ...base, eventType: 'user.human.phone.verified', payload: null }] : []),
  ]);
  return { instanceId: opts.instanceId, orgId, userId, email };
}

export function requestFor(user: DemoUser, overrides: Record<string, unknown> = {}, code = '123456') {
  return {
    userID: user.userId,
    userResourceOwner: user.orgId,
    notificationAggregateID: '',
    notificationAggregateResourceOwner: '',
    triggeredAtOrigin: 'https://auth.example.com',
    eventType: 'user.human.initialization.code.added',
    messageType: 'InitCode',
    notificationType: 0,
    urlTemplate: 'https://auth.example.com/ui/login/user/init?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}',
    codeExpiry: 300_000_000_000,
    code: encryptCode(code),
    ...overrides,
  };
}

/** Writes a notification.requested event; returns its aggregate id. */
export async function requestNotification(
  pool: pg.Pool,
  user: DemoUser,
  overrides: Record<string, unknown> = {},
  opts: { code?: string; createdAt?: Date; position?: number } = {},
): Promise<string> {
  const aggregateId = newId();
  await insertZitadelEvents(pool, [
    {
      instanceId: user.instanceId,
      aggregateType: 'notification',
      aggregateId,
      eventType: 'notification.requested',
      owner: user.orgId,
      payload: { request: requestFor(user, overrides, opts.code) },
      ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
      ...(opts.position === undefined ? {} : { position: opts.position }),
    },
  ]);
  return aggregateId;
}

export interface EventRow {
  aggregate_type: string;
  aggregate_id: string;
  event_type: string;
  sequence: string;
  payload: unknown;
  creator: string;
  owner: string;
  revision: number;
}

export async function eventsOf(pool: pg.Pool, instanceId: string, aggregateId: string): Promise<EventRow[]> {
  const { rows } = await pool.query<EventRow>(
    `SELECT aggregate_type, aggregate_id, event_type, "sequence", payload, creator, "owner", revision
       FROM eventstore.events2 WHERE instance_id = $1 AND aggregate_id = $2 ORDER BY "sequence"`,
    [instanceId, aggregateId],
  );
  return rows;
}

/** The last event type of a notification once it is sent or canceled. */
export async function finishedAs(pool: pg.Pool, instanceId: string, aggregateId: string): Promise<string | undefined> {
  const rows = await eventsOf(pool, instanceId, aggregateId);
  const last = rows.at(-1)?.event_type;
  return last === 'notification.sent' || last === 'notification.canceled' ? last : undefined;
}
