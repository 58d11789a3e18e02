/**
 * Login names of a user, as ZITADEL's login_names3 projection derives them from the org's
 * verified domains and the effective domain policy (zitadel-config-events.md §5).
 */
import type { Queryable } from '../eventstore/types.js';

export const OrgLoginEvent = {
  domainVerified: 'org.domain.verified',
  domainPrimarySet: 'org.domain.primary.set',
  domainRemoved: 'org.domain.removed',
  policyAdded: 'org.policy.domain.added',
  policyChanged: 'org.policy.domain.changed',
  policyRemoved: 'org.policy.domain.removed',
  /** ZITADEL's user projection deletes every user of a removed org. */
  orgRemoved: 'org.removed',
} as const;

export const InstanceLoginEvent = {
  policyAdded: 'instance.policy.domain.added',
  policyChanged: 'instance.policy.domain.changed',
} as const;

/**
 * One round trip for both aggregates. Each branch pins aggregate_id, instance_id,
 * aggregate_type and event_type, so it is answered from the es_wm index rather than by
 * scanning the (large) instance aggregate.
 */
export const selectOrgLoginEventsSql = `(SELECT aggregate_type, event_type, payload, "sequence"
  FROM eventstore.events2
  WHERE aggregate_id = $2 AND instance_id = $1 AND aggregate_type = 'org' AND event_type = ANY($3::TEXT[]))
UNION ALL
(SELECT aggregate_type, event_type, payload, "sequence"
  FROM eventstore.events2
  WHERE aggregate_id = $1 AND instance_id = $1 AND aggregate_type = 'instance' AND event_type = ANY($4::TEXT[]))
ORDER BY aggregate_type, "sequence"`;

interface OrgLoginRow {
  readonly aggregate_type: string;
  readonly event_type: string;
  readonly payload: unknown;
}

export interface OrgLoginState {
  /** Effective userLoginMustBeDomain: the org policy if one exists, else the instance one. */
  readonly mustBeDomain: boolean;
  /** Verified domains in verification order. */
  readonly verifiedDomains: readonly string[];
  /** The primary domain, only while it is verified. */
  readonly primaryDomain: string | undefined;
  readonly orgRemoved: boolean;
}

function field(payload: unknown, key: string): unknown {
  return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[key] : undefined;
}

function domainOf(payload: unknown): string | undefined {
  const d = field(payload, 'domain');
  return typeof d === 'string' && d !== '' ? d : undefined;
}

/** The policy after one added/changed event; undefined when the event cannot apply. */
function applyPolicy(current: boolean | undefined, added: boolean, payload: unknown): boolean | undefined {
  const v = field(payload, 'userLoginMustBeDomain');
  // added omits false (omitempty); in changed an absent field means "unchanged".
  if (added) return v === true;
  if (current === undefined) return undefined; // an UPDATE of a row that does not exist
  return typeof v === 'boolean' ? v : current;
}

/** Folds the org and instance events (each aggregate in sequence order). */
export function reduceOrgLogin(rows: readonly OrgLoginRow[]): OrgLoginState {
  const verified: string[] = [];
  let primary: string | undefined;
  let orgPolicy: boolean | undefined;
  let instancePolicy: boolean | undefined;
  let orgRemoved = false;
  for (const row of rows) {
    if (row.aggregate_type === 'instance') {
      if (row.event_type === InstanceLoginEvent.policyAdded) instancePolicy = applyPolicy(instancePolicy, true, row.payload);
      else if (row.event_type === InstanceLoginEvent.policyChanged) instancePolicy = applyPolicy(instancePolicy, false, row.payload);
      continue;
    }
    const domain = domainOf(row.payload);
    switch (row.event_type) {
      case OrgLoginEvent.domainVerified:
        if (domain !== undefined && !verified.includes(domain)) verified.push(domain);
        break;
      case OrgLoginEvent.domainPrimarySet:
        if (domain !== undefined) primary = domain;
        break;
      case OrgLoginEvent.domainRemoved:
        if (domain !== undefined) {
          const i = verified.indexOf(domain);
          if (i >= 0) verified.splice(i, 1);
          if (primary === domain) primary = undefined;
        }
        break;
      case OrgLoginEvent.policyAdded:
        orgPolicy = applyPolicy(orgPolicy, true, row.payload);
        break;
      case OrgLoginEvent.policyChanged:
        orgPolicy = applyPolicy(orgPolicy, false, row.payload);
        break;
      case OrgLoginEvent.policyRemoved:
        orgPolicy = undefined;
        break;
      case OrgLoginEvent.orgRemoved:
        orgRemoved = true;
        break;
    }
  }
  return {
    mustBeDomain: orgPolicy ?? instancePolicy ?? false,
    verifiedDomains: verified,
    primaryDomain: primary !== undefined && verified.includes(primary) ? primary : undefined,
    orgRemoved,
  };
}

export async function loadOrgLoginState(db: Queryable, instanceId: string, orgId: string): Promise<OrgLoginState> {
  const { rows } = await db.query<OrgLoginRow>(selectOrgLoginEventsSql, [
    instanceId,
    orgId,
    Object.values(OrgLoginEvent),
    Object.values(InstanceLoginEvent),
  ]);
  return reduceOrgLogin(rows);
}

export interface LoginNames {
  readonly LoginNames: readonly string[];
  readonly PreferredLoginName: string;
}

/**
 * username@domain for each verified domain when the policy demands a domain, else the bare
 * username. Without a (primary) verified domain the preferred name falls back to the bare
 * username, so a message never shows an empty login name.
 */
export function loginNamesFor(username: string, state: OrgLoginState): LoginNames {
  if (!state.mustBeDomain || state.verifiedDomains.length === 0) {
    return { LoginNames: [username], PreferredLoginName: username };
  }
  return {
    LoginNames: state.verifiedDomains.map((d) => `${username}@${d}`),
    PreferredLoginName: state.primaryDomain === undefined ? username : `${username}@${state.primaryDomain}`,
  };
}
