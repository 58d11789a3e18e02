/**
 * Per-instance notification settings read from the eventstore — providers, branding, mail
 * template, policies, languages, login-name state and custom message texts: the one read
 * model of what an instance admin configures, with one cache and one version check. Every get
 * first asks Postgres for a version of the relevant events (count and max(position) of the
 * instance's, its restrictions' and the org's settings events — index lookups) unless one was
 * read within `versionTtlMs`, and re-reads and re-reduces only the half (instance or org)
 * whose version moved. The count matters: events are never deleted, so a late commit whose
 * position is below the max still changes the version. A console change therefore applies
 * within `versionTtlMs`, without a restart.
 */
import type { Keyring } from '../crypto/keyring.js';
import { asDependency } from '../errors.js';
import type { Queryable } from '../eventstore/types.js';
import type { Logger } from '../logger.js';
import { makeLru } from '../util/lru.js';
import { makeRecent } from '../util/recent.js';
import { TEXT_TEMPLATES } from './custom-texts.js';
import type { SettingsEventRow } from './events.js';
import {
  INSTANCE_EVENT_TYPES,
  ORG_EVENT_TYPES,
  RESTRICTIONS_EVENT_TYPES,
  selectInstanceSettingsEventsSql,
  selectOrgSettingsEventsSql,
  selectSettingsVersionSql,
} from './events.js';
import type { InstanceState, OrgState } from './reduce.js';
import { mergePolicies, reduceInstanceSettings, reduceOrgSettings } from './reduce.js';
import { resolveEmailProvider, resolveSmsProvider } from './resolve.js';
import type { EmailProvider, InstanceSettings, InstanceSettingsSource, SmsProvider } from './types.js';

const SECOND = 1000;

export interface InstanceSettingsDeps {
  readonly pool: Queryable;
  readonly keyring: Keyring;
  readonly logger: Logger;
  /** Instances kept in the cache. @defaultValue 1000 */
  readonly maxInstances?: number;
  /** (instance, org) pairs kept in the cache. @defaultValue 10000 */
  readonly maxOrgs?: number;
  /**
   * A provider secret that did not decrypt (e.g. a key ZITADEL added after herald read its
   * keys) is tried again after this long even if no event moved.
   * @defaultValue 30 * SECOND
   */
  readonly problemRetryMs?: number;
  /**
   * Reuse a version check for this long per (instance, org): a change then takes effect
   * within this interval. 0 checks on every get. @defaultValue 0
   */
  readonly versionTtlMs?: number;
  /** @internal Test clock. */
  readonly now?: () => number;
}

interface InstanceEntry {
  readonly version: string;
  readonly state: InstanceState;
  readonly email: EmailProvider | undefined;
  readonly sms: SmsProvider | undefined;
  /** Set when a provider has a problem: reload after this time even without new events. */
  readonly retryAt: number | undefined;
}

interface OrgEntry {
  readonly version: string;
  readonly state: OrgState;
}

interface VersionRow {
  readonly instance_version: string;
  readonly org_version: string;
}

const orgKey = (instanceId: string, orgId: string): string => `${instanceId}\u0000${orgId}`;

export function makeInstanceSettings(deps: InstanceSettingsDeps): InstanceSettingsSource {
  const log = deps.logger.child({ component: 'instance-settings' });
  const now = deps.now ?? Date.now;
  const problemRetryMs = deps.problemRetryMs ?? 30 * SECOND;
  const instances = makeLru<string, InstanceEntry>(deps.maxInstances ?? 1000);
  const versions = makeRecent<VersionRow | undefined>(deps.versionTtlMs ?? 0);
  const orgs = makeLru<string, OrgEntry>(deps.maxOrgs ?? 10_000);
  /** Single flight: concurrent jobs of one instance share one reload per version. */
  const inflight = new Map<string, Promise<InstanceEntry | OrgEntry>>();

  function once<T extends InstanceEntry | OrgEntry>(key: string, load: () => Promise<T>): Promise<T> {
    const running = inflight.get(key);
    if (running) return running as Promise<T>;
    const started = load().finally(() => inflight.delete(key));
    inflight.set(key, started);
    return started;
  }

  async function loadInstance(instanceId: string, version: string): Promise<InstanceEntry> {
    const { rows } = await asDependency('read instance settings events', () =>
      deps.pool.query<SettingsEventRow>(selectInstanceSettingsEventsSql, [
        instanceId,
        INSTANCE_EVENT_TYPES,
        RESTRICTIONS_EVENT_TYPES,
        TEXT_TEMPLATES,
      ]),
    );
    const state = reduceInstanceSettings(instanceId, rows);
    // Decryption may read system.encryption_keys: a failure there is a dependency problem.
    const [email, sms] = await asDependency('decrypt instance provider secrets', () =>
      Promise.all([resolveEmailProvider(state.email, deps.keyring), resolveSmsProvider(state.sms, deps.keyring)]),
    );
    const hasProblem = (email?.kind === 'smtp' && email.problem) || (sms?.kind === 'twilio' && sms.problem);
    const entry: InstanceEntry = { version, state, email, sms, retryAt: hasProblem ? now() + problemRetryMs : undefined };
    instances.set(instanceId, entry);
    log.debug({ instanceId, events: rows.length, email: email?.kind, sms: sms?.kind }, 'instance settings reduced');
    return entry;
  }

  async function loadOrg(instanceId: string, orgId: string, version: string): Promise<OrgEntry> {
    const { rows } = await asDependency('read org settings events', () =>
      deps.pool.query<SettingsEventRow>(selectOrgSettingsEventsSql, [instanceId, orgId, ORG_EVENT_TYPES, TEXT_TEMPLATES]),
    );
    const entry: OrgEntry = { version, state: reduceOrgSettings(rows) };
    orgs.set(orgKey(instanceId, orgId), entry);
    return entry;
  }

  function instanceEntry(instanceId: string, version: string): Promise<InstanceEntry> {
    const cached = instances.get(instanceId);
    const expired = cached?.retryAt !== undefined && now() >= cached.retryAt;
    if (cached && cached.version === version && !expired) return Promise.resolve(cached);
    return once(`i\u0000${instanceId}\u0000${version}`, () => loadInstance(instanceId, version));
  }

  function orgEntry(instanceId: string, orgId: string, version: string): Promise<OrgEntry> {
    const cached = orgs.get(orgKey(instanceId, orgId));
    if (cached && cached.version === version) return Promise.resolve(cached);
    return once(`o\u0000${orgKey(instanceId, orgId)}\u0000${version}`, () => loadOrg(instanceId, orgId, version));
  }

  return {
    async get(instanceId, orgId) {
      const version = await versions.get(`${instanceId}\u0000${orgId}`, async () => {
        const { rows } = await asDependency('read instance settings version', () =>
          deps.pool.query<VersionRow>(selectSettingsVersionSql, [instanceId, INSTANCE_EVENT_TYPES, RESTRICTIONS_EVENT_TYPES, orgId, ORG_EVENT_TYPES]),
        );
        return rows[0];
      });
      if (!version) throw new Error('settings version query returned no row');
      const [inst, org] = await Promise.all([instanceEntry(instanceId, version.instance_version), orgEntry(instanceId, orgId, version.org_version)]);
      return {
        instanceId,
        orgId,
        removed: inst.state.removed,
        email: inst.email,
        sms: inst.sms,
        ...mergePolicies(inst.state, org.state),
        defaultLanguage: inst.state.defaultLanguage,
        allowedLanguages: inst.state.allowedLanguages,
        primaryDomain: inst.state.primaryDomain,
        texts: { instance: inst.state.texts, org: org.state.texts },
      } satisfies InstanceSettings;
    },

    forget(instanceId) {
      instances.delete(instanceId);
      const prefix = `${instanceId}\u0000`;
      for (const key of orgs.keys()) if (key.startsWith(prefix)) orgs.delete(key);
    },
  };
}
