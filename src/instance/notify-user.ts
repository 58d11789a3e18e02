/**
 * The recipient (query.NotifyUser) rebuilt from the user aggregate's events, the way
 * ZITADEL's users14 projection reduces them (zitadel-facts.md §6), so herald needs no
 * projection tables of its own.
 */
import type { NotifyUser } from '../eventstore/notification-types.js';
import type { Queryable } from '../eventstore/types.js';
import type { OrgLoginState } from './login-names.js';
import { loadOrgLoginState, loginNamesFor } from './login-names.js';

/** domain.UserState */
export const UserState = { active: 1, inactive: 2, locked: 4, initial: 6 } as const;
/** domain.UserType */
export const UserType = { human: 1, machine: 2 } as const;

type Payload = Readonly<Record<string, unknown>>;

type Draft = { -readonly [K in keyof NotifyUser]: NotifyUser[K] };

interface Reducer {
  readonly apply: (user: Draft, payload: Payload) => void;
  /**
   * Whether the projection moves change_date/sequence on this event. It does not for the
   * init-code and password events, so neither does herald.
   */
  readonly touches: boolean;
}

function str(p: Payload, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' ? v : undefined;
}

function int(p: Payload, key: string): number | undefined {
  const v = p[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/** user.SecretOrEncodedHash(secret, encodedHash) != "" (hashedPassword: older events). */
function passwordIn(p: Payload): boolean {
  const secret = p.secret;
  if (secret !== undefined && secret !== null && secret !== '') return true;
  return Boolean(str(p, 'encodedHash') || str(p, 'hashedPassword'));
}

function humanAdded(u: Draft, p: Payload): void {
  u.Type = UserType.human;
  u.State = UserState.active;
  u.Username = str(p, 'userName') ?? '';
  u.FirstName = str(p, 'firstName') ?? '';
  u.LastName = str(p, 'lastName') ?? '';
  u.NickName = str(p, 'nickName') ?? '';
  u.DisplayName = str(p, 'displayName') ?? '';
  u.PreferredLanguage = str(p, 'preferredLanguage') ?? '';
  u.Gender = int(p, 'gender') ?? 0;
  u.LastEmail = str(p, 'email') ?? '';
  u.LastPhone = str(p, 'phone') ?? '';
  u.PasswordSet = passwordIn(p);
}

function machineAdded(u: Draft, p: Payload): void {
  u.Type = UserType.machine;
  u.State = UserState.active;
  u.Username = str(p, 'userName') ?? '';
}

/** Profile changes carry only the changed keys; first/last name are never cleared. */
function profileChanged(u: Draft, p: Payload): void {
  u.FirstName = str(p, 'firstName') || u.FirstName;
  u.LastName = str(p, 'lastName') || u.LastName;
  u.NickName = str(p, 'nickName') ?? u.NickName;
  u.DisplayName = str(p, 'displayName') ?? u.DisplayName;
  u.PreferredLanguage = str(p, 'preferredLanguage') ?? u.PreferredLanguage;
  u.Gender = int(p, 'gender') ?? u.Gender;
}

const state =
  (s: number): Reducer['apply'] =>
  (u) => {
    u.State = s;
  };

const setUsername: Reducer['apply'] = (u, p) => {
  u.Username = str(p, 'userName') ?? u.Username;
};

const touching = (apply: Reducer['apply']): Reducer => ({ apply, touches: true });
const silent = (apply: Reducer['apply']): Reducer => ({ apply, touches: false });

/** Creation events; a user exists once one of them has been seen. */
const ADDED: ReadonlyMap<string, Reducer['apply']> = new Map(
  Object.entries({
    'user.human.added': humanAdded,
    'user.added': humanAdded,
    'user.human.selfregistered': humanAdded,
    'user.selfregistered': humanAdded,
    'user.machine.added': machineAdded,
  }),
);

const REMOVED = 'user.removed';

/** Event type → reducer, v2 ("user.human.…") and v1 ("user.…") names alike. */
const REDUCERS: ReadonlyMap<string, Reducer> = new Map(
  Object.entries({
    'user.human.profile.changed': touching(profileChanged),
    'user.profile.changed': touching(profileChanged),
    'user.human.email.changed': touching((u, p) => {
      u.LastEmail = str(p, 'email') ?? u.LastEmail;
    }),
    'user.email.changed': touching((u, p) => {
      u.LastEmail = str(p, 'email') ?? u.LastEmail;
    }),
    'user.human.email.verified': touching((u) => {
      u.VerifiedEmail = u.LastEmail;
    }),
    'user.email.verified': touching((u) => {
      u.VerifiedEmail = u.LastEmail;
    }),
    'user.human.phone.changed': touching((u, p) => {
      u.LastPhone = str(p, 'phone') ?? u.LastPhone;
    }),
    'user.phone.changed': touching((u, p) => {
      u.LastPhone = str(p, 'phone') ?? u.LastPhone;
    }),
    'user.human.phone.verified': touching((u) => {
      u.VerifiedPhone = u.LastPhone;
    }),
    'user.phone.verified': touching((u) => {
      u.VerifiedPhone = u.LastPhone;
    }),
    'user.human.phone.removed': touching((u) => {
      u.LastPhone = '';
      u.VerifiedPhone = '';
    }),
    'user.phone.removed': touching((u) => {
      u.LastPhone = '';
      u.VerifiedPhone = '';
    }),
    'user.human.avatar.added': touching((u, p) => {
      u.AvatarKey = str(p, 'storeKey') ?? u.AvatarKey;
    }),
    'user.human.avatar.removed': touching((u) => {
      u.AvatarKey = '';
    }),
    'user.human.password.changed': silent((u) => {
      u.PasswordSet = true;
    }),
    'user.password.changed': silent((u) => {
      u.PasswordSet = true;
    }),
    'user.username.changed': touching(setUsername),
    'user.domain.claimed': touching(setUsername),
    'user.human.initialization.code.added': silent(state(UserState.initial)),
    'user.initialization.code.added': silent(state(UserState.initial)),
    'user.human.initialization.check.succeeded': silent(state(UserState.active)),
    'user.initialization.check.succeeded': silent(state(UserState.active)),
    'user.locked': touching(state(UserState.locked)),
    'user.unlocked': touching(state(UserState.active)),
    'user.deactivated': touching(state(UserState.inactive)),
    'user.reactivated': touching(state(UserState.active)),
  }),
);

/** Every event type the reducer reads; the query fetches only these. */
export const USER_EVENT_TYPES: readonly string[] = [...ADDED.keys(), REMOVED, ...REDUCERS.keys()];

/**
 * The user's events of the reduced types only: a busy user aggregate holds thousands of
 * token/session events that play no part here. created_at is formatted in SQL because a JS
 * Date would drop the microseconds ZITADEL's RFC3339Nano string carries.
 */
export const selectUserEventsSql = `SELECT event_type, "sequence", payload, "owner",
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_utc
FROM eventstore.events2
WHERE instance_id = $1 AND aggregate_type = 'user' AND aggregate_id = $2 AND event_type = ANY($3::TEXT[])
ORDER BY "sequence"`;

export interface UserEventRow {
  readonly event_type: string;
  readonly sequence: string | number;
  readonly payload: unknown;
  readonly owner: string;
  /** UTC, "YYYY-MM-DDTHH:MM:SS.ffffff" */
  readonly created_utc: string;
}

/** Go's time.RFC3339Nano for a UTC time: trailing zeros of the fraction dropped, "Z" zone. */
export function toRfc3339Nano(utc: string): string {
  const [whole = utc, fraction = ''] = utc.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  return `${whole}${trimmed ? `.${trimmed}` : ''}Z`;
}

function emptyUser(id: string, owner: string): Draft {
  return {
    ID: id,
    CreationDate: '',
    ChangeDate: '',
    ResourceOwner: owner,
    Sequence: 0,
    State: 0,
    Type: 0,
    Username: '',
    LoginNames: null,
    PreferredLoginName: '',
    FirstName: '',
    LastName: '',
    NickName: '',
    DisplayName: '',
    AvatarKey: '',
    PreferredLanguage: '',
    Gender: 0,
    LastEmail: '',
    VerifiedEmail: '',
    LastPhone: '',
    VerifiedPhone: '',
    PasswordSet: false,
  };
}

function payloadOf(row: UserEventRow): Payload {
  const p = row.payload;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Payload) : {};
}

/**
 * Folds the rows (sequence order) into a NotifyUser without login names. null when the
 * user was never created or has been removed, as the projection would have no row.
 */
export function reduceUserEvents(userId: string, fallbackOwner: string, rows: readonly UserEventRow[]): NotifyUser | null {
  let user: Draft | undefined;
  for (const row of rows) {
    const created = ADDED.get(row.event_type);
    if (created) {
      user = emptyUser(userId, row.owner || fallbackOwner);
      created(user, payloadOf(row));
      user.CreationDate = toRfc3339Nano(row.created_utc);
    } else if (!user) {
      continue; // the projection's UPDATE would find no row
    } else if (row.event_type === REMOVED) {
      return null;
    } else {
      const reducer = REDUCERS.get(row.event_type);
      if (!reducer) continue;
      reducer.apply(user, payloadOf(row));
      if (!reducer.touches) continue;
    }
    user.ChangeDate = toRfc3339Nano(row.created_utc);
    user.Sequence = Number(row.sequence);
  }
  if (!user) return null;
  // language.Make("") is the root tag, which Go prints as "und".
  if (user.PreferredLanguage === '') user.PreferredLanguage = 'und';
  return user;
}

export interface NotifyUserRef {
  readonly instanceId: string;
  readonly userId: string;
  /** The user's org; used only when the user's events carry no owner. */
  readonly resourceOwner: string;
}

/** An org's login state the caller already has (instance settings cache), and for which org. */
export interface KnownLoginState {
  readonly orgId: string;
  readonly login: OrgLoginState;
}

/**
 * The user as ZITADEL's worker would see it, or null when unknown/removed (the caller
 * cancels). The user aggregate, then the org's domains and domain policy — read here unless
 * `known` already holds them for the user's org.
 */
export async function loadNotifyUser(
  db: Queryable,
  ref: NotifyUserRef,
  known?: KnownLoginState,
  /** Reads the user's events another way (the worker batches them across jobs: worker/reads.ts). */
  userEvents?: (ref: NotifyUserRef) => Promise<readonly UserEventRow[]>,
): Promise<NotifyUser | null> {
  const rows = userEvents
    ? await userEvents(ref)
    : (await db.query<UserEventRow>(selectUserEventsSql, [ref.instanceId, ref.userId, USER_EVENT_TYPES])).rows;
  const user = reduceUserEvents(ref.userId, ref.resourceOwner, rows);
  if (!user) return null;
  const org = known?.orgId === user.ResourceOwner ? known.login : await loadOrgLoginState(db, ref.instanceId, user.ResourceOwner);
  if (org.orgRemoved) return null;
  return { ...user, ...loginNamesFor(user.Username, org) };
}
