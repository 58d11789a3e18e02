import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadNotifyUser, toRfc3339Nano } from '../../src/instance/notify-user.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertZitadelEvents, ZITADEL_EVENTS2_DDL, type ZitadelEvent } from '../helpers/events.js';

const INSTANCE = 'inst-1';
let db: TestDatabase;
let counter = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(ZITADEL_EVENTS2_DDL);
});
afterAll(async () => {
  await db?.drop();
});

/** A fresh user/org id pair per test so tests never see each other's events. */
function ids(): { userId: string; orgId: string } {
  counter += 1;
  return { userId: `user-${counter}`, orgId: `org-${counter}` };
}

function userEvents(userId: string, orgId: string, list: [string, unknown?][]): ZitadelEvent[] {
  return list.map(([eventType, payload]) => ({
    instanceId: INSTANCE,
    aggregateType: 'user',
    aggregateId: userId,
    owner: orgId,
    eventType,
    payload,
    revision: 2,
  }));
}

function orgEvents(orgId: string, list: [string, unknown?][]): ZitadelEvent[] {
  return list.map(([eventType, payload]) => ({
    instanceId: INSTANCE,
    aggregateType: 'org',
    aggregateId: orgId,
    owner: orgId,
    eventType,
    payload,
  }));
}

const load = (userId: string, orgId: string) => loadNotifyUser(db.pool, { instanceId: INSTANCE, userId, resourceOwner: orgId });

const humanAdded = {
  userName: 'alice',
  firstName: 'Alice',
  lastName: 'Liddell',
  nickName: 'al',
  displayName: 'Alice L.',
  preferredLanguage: 'de',
  gender: 1,
  email: 'alice@old.example',
  phone: '+41790000001',
  encodedHash: '$2a$14$hash',
};

describe('loadNotifyUser: user aggregate', () => {
  it('fills every field from user.human.added', async () => {
    const { userId, orgId } = ids();
    const seqs = await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.human.added', humanAdded]]));
    const user = await load(userId, orgId);
    expect(user).toMatchObject({
      ID: userId,
      ResourceOwner: orgId,
      Sequence: seqs[0],
      State: 1,
      Type: 1,
      Username: 'alice',
      LoginNames: ['alice'],
      PreferredLoginName: 'alice',
      FirstName: 'Alice',
      LastName: 'Liddell',
      NickName: 'al',
      DisplayName: 'Alice L.',
      AvatarKey: '',
      PreferredLanguage: 'de',
      Gender: 1,
      LastEmail: 'alice@old.example',
      VerifiedEmail: '',
      LastPhone: '+41790000001',
      VerifiedPhone: '',
      PasswordSet: true,
    });
    expect(user?.CreationDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(user?.ChangeDate).toBe(user?.CreationDate);
  });

  it('email changed updates LastEmail only; verified copies it to VerifiedEmail', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.human.added', humanAdded]]));
    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.human.email.verified']]));
    const seqs = await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.human.email.changed', { email: 'alice@new.example' }]]));
    const changed = await load(userId, orgId);
    expect(changed).toMatchObject({ LastEmail: 'alice@new.example', VerifiedEmail: 'alice@old.example', Sequence: seqs[0] });

    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.human.email.verified']]));
    const verified = await load(userId, orgId);
    expect(verified).toMatchObject({ LastEmail: 'alice@new.example', VerifiedEmail: 'alice@new.example' });
    expect(verified?.Sequence).toBe(4);
    expect(verified?.CreationDate).toBe(changed?.CreationDate);
  });

  it('phone verified copies LastPhone; phone removed clears both', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        ['user.human.added', humanAdded],
        ['user.human.phone.changed', { phone: '+41790000002' }],
        ['user.human.phone.verified'],
      ]),
    );
    expect(await load(userId, orgId)).toMatchObject({ LastPhone: '+41790000002', VerifiedPhone: '+41790000002' });
    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.human.phone.removed']]));
    expect(await load(userId, orgId)).toMatchObject({ LastPhone: '', VerifiedPhone: '' });
  });

  it('a profile change of only displayName keeps the other profile fields', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        ['user.human.added', humanAdded],
        ['user.human.profile.changed', { displayName: 'Queen Alice' }],
      ]),
    );
    expect(await load(userId, orgId)).toMatchObject({
      DisplayName: 'Queen Alice',
      FirstName: 'Alice',
      LastName: 'Liddell',
      NickName: 'al',
      PreferredLanguage: 'de',
      Gender: 1,
    });
  });

  it('username changed and domain claimed rename the user', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        ['user.human.added', humanAdded],
        ['user.username.changed', { userName: 'alice2' }],
      ]),
    );
    expect(await load(userId, orgId)).toMatchObject({ Username: 'alice2', PreferredLoginName: 'alice2' });
    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.domain.claimed', { userName: 'tmp-123' }]]));
    expect(await load(userId, orgId)).toMatchObject({ Username: 'tmp-123', LoginNames: ['tmp-123'] });
  });

  it('tracks state: initial, locked, unlocked, deactivated', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        ['user.human.added', { userName: 'bob' }],
        ['user.human.initialization.code.added', { expiry: 1 }],
      ]),
    );
    const initial = await load(userId, orgId);
    expect(initial).toMatchObject({ State: 6, PasswordSet: false, PreferredLanguage: 'und', Sequence: 1 });
    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.locked']]));
    expect(await load(userId, orgId)).toMatchObject({ State: 4, Sequence: 3 });
    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.unlocked'], ['user.deactivated']]));
    expect(await load(userId, orgId)).toMatchObject({ State: 2 });
  });

  it('password changed sets PasswordSet', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        ['user.human.added', { userName: 'carol' }],
        ['user.human.password.changed', { encodedHash: 'x' }],
      ]),
    );
    expect(await load(userId, orgId)).toMatchObject({ PasswordSet: true });
  });

  it('a removed user is unknown (null)', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        ['user.human.added', humanAdded],
        ['user.removed', { userName: 'alice' }],
      ]),
    );
    expect(await load(userId, orgId)).toBeNull();
  });

  it('a user with no events is unknown (null)', async () => {
    expect(await load('nobody', 'org-x')).toBeNull();
  });

  it('reads the v1 user.added shape and v1 change events', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        [
          'user.added',
          {
            userName: 'dave',
            firstName: 'Dave',
            lastName: 'D',
            email: 'dave@example.com',
            secret: { CryptoType: 1, Algorithm: 'bcrypt', KeyID: '', Crypted: 'aGFzaA==' },
          },
        ],
        ['user.email.verified'],
        ['user.phone.changed', { phone: '+1555' }],
        ['user.phone.verified'],
      ]),
    );
    expect(await load(userId, orgId)).toMatchObject({
      Type: 1,
      Username: 'dave',
      FirstName: 'Dave',
      VerifiedEmail: 'dave@example.com',
      VerifiedPhone: '+1555',
      PasswordSet: true,
    });
  });

  it('machine users have Type 2', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, userEvents(userId, orgId, [['user.machine.added', { userName: 'svc', name: 'Service' }]]));
    expect(await load(userId, orgId)).toMatchObject({ Type: 2, State: 1, Username: 'svc', LastEmail: '', DisplayName: '' });
  });

  it('skips wrong-typed payload fields and unknown event types without throwing', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(
      db.pool,
      userEvents(userId, orgId, [
        ['user.human.added', { firstName: 42, email: ['x'], gender: 'female', preferredLanguage: null }],
        ['user.human.profile.changed', 'not an object'],
        ['user.human.email.changed', { email: 7 }],
        ['user.token.added', { weird: true }],
        ['user.username.changed', { userName: { nested: 1 } }],
      ]),
    );
    const user = await load(userId, orgId);
    expect(user).toMatchObject({ Username: '', FirstName: '', LastEmail: '', Gender: 0, PreferredLanguage: 'und' });
    expect(user?.Sequence).toBe(5);
  });
});

describe('loadNotifyUser: login names', () => {
  it('org policy mustBeDomain with two verified domains and a primary', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, [
      ...orgEvents(orgId, [
        ['org.domain.added', { domain: 'a.example' }],
        ['org.domain.verified', { domain: 'a.example' }],
        ['org.domain.added', { domain: 'b.example' }],
        ['org.domain.verified', { domain: 'b.example' }],
        ['org.domain.added', { domain: 'unverified.example' }],
        ['org.domain.primary.set', { domain: 'b.example' }],
        ['org.policy.domain.added', { userLoginMustBeDomain: true }],
      ]),
      ...userEvents(userId, orgId, [['user.human.added', humanAdded]]),
    ]);
    expect(await load(userId, orgId)).toMatchObject({
      PreferredLoginName: 'alice@b.example',
      LoginNames: ['alice@a.example', 'alice@b.example'],
    });
  });

  it('org policy false gives the bare username even with domains', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, [
      ...orgEvents(orgId, [
        ['org.domain.verified', { domain: 'a.example' }],
        ['org.domain.primary.set', { domain: 'a.example' }],
        ['org.policy.domain.added', { userLoginMustBeDomain: true }],
        ['org.policy.domain.changed', { userLoginMustBeDomain: false }],
      ]),
      ...userEvents(userId, orgId, [['user.human.added', humanAdded]]),
    ]);
    expect(await load(userId, orgId)).toMatchObject({ PreferredLoginName: 'alice', LoginNames: ['alice'] });
  });

  it('falls back to the instance policy when the org has none (or removed it)', async () => {
    const { userId, orgId } = ids();
    const instanceId = `inst-fallback-${counter}`;
    const withInstance = (e: ZitadelEvent): ZitadelEvent => ({ ...e, instanceId });
    await insertZitadelEvents(db.pool, [
      {
        instanceId,
        aggregateType: 'instance',
        aggregateId: instanceId,
        owner: instanceId,
        eventType: 'instance.policy.domain.added',
        payload: { validateOrgDomains: true },
      },
      {
        instanceId,
        aggregateType: 'instance',
        aggregateId: instanceId,
        owner: instanceId,
        eventType: 'instance.policy.domain.changed',
        payload: { userLoginMustBeDomain: true },
      },
      ...orgEvents(orgId, [
        ['org.domain.verified', { domain: 'c.example' }],
        ['org.domain.primary.set', { domain: 'c.example' }],
        ['org.policy.domain.added', {}],
        ['org.policy.domain.removed'],
      ]).map(withInstance),
      ...userEvents(userId, orgId, [['user.human.added', humanAdded]]).map(withInstance),
    ]);
    const user = await loadNotifyUser(db.pool, { instanceId, userId, resourceOwner: orgId });
    expect(user).toMatchObject({ PreferredLoginName: 'alice@c.example', LoginNames: ['alice@c.example'] });
  });

  it('a removed domain disappears; removing the primary falls back to the username', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, [
      ...orgEvents(orgId, [
        ['org.policy.domain.added', { userLoginMustBeDomain: true }],
        ['org.domain.verified', { domain: 'a.example' }],
        ['org.domain.verified', { domain: 'b.example' }],
        ['org.domain.primary.set', { domain: 'a.example' }],
        ['org.domain.removed', { domain: 'a.example' }],
      ]),
      ...userEvents(userId, orgId, [['user.human.added', humanAdded]]),
    ]);
    expect(await load(userId, orgId)).toMatchObject({ PreferredLoginName: 'alice', LoginNames: ['alice@b.example'] });
  });

  it('mustBeDomain without any verified domain uses the username', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, [
      ...orgEvents(orgId, [['org.policy.domain.added', { userLoginMustBeDomain: true }]]),
      ...userEvents(userId, orgId, [['user.human.added', humanAdded]]),
    ]);
    expect(await load(userId, orgId)).toMatchObject({ PreferredLoginName: 'alice', LoginNames: ['alice'] });
  });

  it('a removed org makes its users unknown', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, [...userEvents(userId, orgId, [['user.human.added', humanAdded]]), ...orgEvents(orgId, [['org.removed']])]);
    expect(await load(userId, orgId)).toBeNull();
  });

  it('malformed domain/policy payloads are ignored', async () => {
    const { userId, orgId } = ids();
    await insertZitadelEvents(db.pool, [
      ...orgEvents(orgId, [
        ['org.policy.domain.added', { userLoginMustBeDomain: 'yes' }],
        ['org.domain.verified', { domain: 5 }],
        ['org.domain.verified'],
      ]),
      ...userEvents(userId, orgId, [['user.human.added', humanAdded]]),
    ]);
    expect(await load(userId, orgId)).toMatchObject({ PreferredLoginName: 'alice', LoginNames: ['alice'] });
  });
});

describe('toRfc3339Nano', () => {
  it('drops trailing zeros of the fraction like Go', () => {
    expect(toRfc3339Nano('2024-12-04T10:11:12.123400')).toBe('2024-12-04T10:11:12.1234Z');
    expect(toRfc3339Nano('2024-12-04T10:11:12.000000')).toBe('2024-12-04T10:11:12Z');
  });
});
