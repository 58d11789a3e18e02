/**
 * The egress rule for tenant-configured providers (an instance's SMTP host, its HTTP provider
 * URL): what a ZITADEL instance admin types there is attacker input, so herald refuses to
 * connect to loopback, private, link-local, CGNAT, unique-local, multicast, unspecified and
 * reserved addresses — the ranges of ZITADEL v4's `HTTPClient.DenyList` plus `0.0.0.0/8` and
 * broadcast — unless the operator allows them with HERALD_EGRESS_ALLOW (CIDRs and host names,
 * e.g. an in-cluster relay; ZITADEL shipped its denylist without an allowlist and its users
 * lost mail for weeks, zitadel#12326).
 *
 * Checking a name and then letting the client resolve it again would let a DNS answer change
 * in between (rebinding). So the check sits where the address is chosen: `checkedLookup` is a
 * `lookup` for net/http that refuses before the socket connects, and `resolveChecked` returns
 * the checked addresses for a caller that connects to them itself (SMTP). The deployment's own
 * providers (SMTP_URL, HERALD_WEBHOOK_URL, SNS) are the operator's and never pass through here.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import dns from 'node:dns';
import net from 'node:net';

import ipaddr from 'ipaddr.js';

import { PermanentError } from '../errors.js';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Ip, number];

/** Refused ranges, by the name a cancel reason shows. IPv4-mapped and embedded IPv4 are unwrapped first. */
const DENY: ReadonlyArray<readonly [string, string]> = [
  ['unspecified', '0.0.0.0/8'],
  ['private', '10.0.0.0/8'],
  ['carrier-grade NAT', '100.64.0.0/10'],
  ['loopback', '127.0.0.0/8'],
  ['link-local', '169.254.0.0/16'],
  ['private', '172.16.0.0/12'],
  ['reserved', '192.0.0.0/24'],
  ['private', '192.168.0.0/16'],
  ['reserved', '198.18.0.0/15'],
  ['multicast', '224.0.0.0/4'],
  ['reserved', '240.0.0.0/4'], // includes broadcast 255.255.255.255
  ['unspecified', '::/128'],
  ['loopback', '::1/128'],
  ['reserved', '100::/64'],
  ['unique-local', 'fc00::/7'],
  ['link-local', 'fe80::/10'],
  ['site-local', 'fec0::/10'],
  ['multicast', 'ff00::/8'],
];

const DENY_PARSED: ReadonlyArray<readonly [string, Cidr]> = DENY.map(([name, cidr]) => [name, ipaddr.parseCIDR(cidr)] as const);

/** IPv6 forms that carry an IPv4 address a packet may end up at: checked as that IPv4 address. */
const EMBEDDING: ReadonlyArray<readonly [Cidr, (p: readonly number[]) => ipaddr.IPv4]> = [
  [ipaddr.parseCIDR('::ffff:0:0/96'), (p) => v4(p[6], p[7])], // IPv4-mapped
  [ipaddr.parseCIDR('::/96'), (p) => v4(p[6], p[7])], // IPv4-compatible (deprecated)
  [ipaddr.parseCIDR('64:ff9b::/96'), (p) => v4(p[6], p[7])], // NAT64
  [ipaddr.parseCIDR('64:ff9b:1::/48'), (p) => v4(p[6], p[7])], // local-use NAT64
  [ipaddr.parseCIDR('2002::/16'), (p) => v4(p[1], p[2])], // 6to4
];

function v4(hi: number | undefined, lo: number | undefined): ipaddr.IPv4 {
  const h = hi ?? 0;
  const l = lo ?? 0;
  return new ipaddr.IPv4([h >> 8, h & 0xff, l >> 8, l & 0xff]);
}

/** The operator's exceptions (HERALD_EGRESS_ALLOW). */
export interface EgressPolicy {
  readonly allowCidrs: readonly Cidr[];
  /** Lower-case host names whose addresses are all allowed. */
  readonly allowHosts: ReadonlySet<string>;
}

/** Nothing private is reachable: the default. */
export const STRICT_EGRESS: EgressPolicy = { allowCidrs: [], allowHosts: new Set() };

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** An RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, ≤ 253 characters. */
export function isHostName(value: string): boolean {
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  if (name.length === 0 || name.length > 253) return false;
  return name
    .toLowerCase()
    .split('.')
    .every((label) => HOST_LABEL.test(label));
}

/**
 * Parses HERALD_EGRESS_ALLOW: comma-separated CIDRs (`10.0.0.0/8`, `fd00::/8`), single
 * addresses (taken as /32 or /128) and host names. Returns the entries that are none of these.
 */
export function parseEgressAllow(text: string | undefined): { policy: EgressPolicy; invalid: string[] } {
  const allowCidrs: Cidr[] = [];
  const allowHosts = new Set<string>();
  const invalid: string[] = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.includes('/')) {
      if (ipaddr.isValidCIDR(entry)) allowCidrs.push(ipaddr.parseCIDR(entry));
      else invalid.push(entry);
    } else if (net.isIP(entry)) {
      const ip = ipaddr.parse(entry);
      allowCidrs.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else if (isHostName(entry) && !/^[0-9.]+$/.test(entry)) {
      allowHosts.add(entry.toLowerCase().replace(/\.$/, ''));
    } else {
      invalid.push(entry);
    }
  }
  return { policy: { allowCidrs, allowHosts }, invalid };
}

/** The policy of config's normalised HERALD_EGRESS_ALLOW entries (already validated). */
export function egressPolicyOf(entries: readonly string[]): EgressPolicy {
  return parseEgressAllow(entries.join(',')).policy;
}

function matches(ip: Ip, [range, bits]: Cidr): boolean {
  return ip.kind() === range.kind() && ip.match(range, bits);
}

/** Why the address is refused (the range's name), or undefined when it may be reached. */
export function refusalOf(address: string, policy: EgressPolicy): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const ip = ipaddr.parse(address);
  if (policy.allowCidrs.some((cidr) => matches(ip, cidr))) return undefined;
  let checked: Ip = ip;
  if (ip.kind() === 'ipv6') {
    const embedded = EMBEDDING.find(([cidr]) => matches(ip, cidr));
    // "::" and "::1" sit inside ::/96 but are their own ranges.
    if (embedded && !matches(ip, ipaddr.parseCIDR('::/127'))) {
      checked = embedded[1]((ip as ipaddr.IPv6).parts);
      if (policy.allowCidrs.some((cidr) => matches(checked, cidr))) return undefined;
    }
  }
  return DENY_PARSED.find(([, cidr]) => matches(checked, cidr))?.[0];
}

/** A tenant provider's address is refused by the egress rule: the notification is canceled. */
export class EgressRefusedError extends PermanentError {
  constructor(range: string) {
    super(
      'EGRESS_REFUSED',
      `the instance's provider address is refused by the egress rule (${range} address; ` + 'an operator may allow it with HERALD_EGRESS_ALLOW)',
    );
  }
}

/** Host names that resolve to nothing (or DNS that does not answer) in time: retried. */
const DNS_TIMEOUT_MS = 10_000;

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error('DNS lookup timed out'), { code: 'ETIMEDOUT' })), DNS_TIMEOUT_MS);
    dns.lookup(host, { all: true, verbatim: true }, (err, addresses) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(addresses);
    });
  });
}

function isAllowedHost(host: string, policy: EgressPolicy): boolean {
  return policy.allowHosts.has(host.toLowerCase().replace(/\.$/, ''));
}

/**
 * Resolves `host` (a name or an IP literal) and checks every address: one refused address
 * refuses the host, so a name cannot mix a public and an internal answer. Returns the checked
 * addresses, to be connected to as they are. Throws EgressRefusedError, or the DNS error.
 */
export async function resolveChecked(host: string, policy: EgressPolicy): Promise<LookupAddress[]> {
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const family = net.isIP(literal);
  const addresses = family !== 0 ? [{ address: literal, family }] : await lookupAll(literal);
  if (family === 0 && isAllowedHost(literal, policy)) return addresses;
  for (const { address } of addresses) {
    const refusal = refusalOf(address, policy);
    if (refusal !== undefined) throw new EgressRefusedError(refusal);
  }
  return addresses;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect / http.request that resolves and checks in one step, so the
 * socket connects to exactly the addresses that were checked. net.connect skips `lookup` for
 * an IP literal: callers check those with `resolveChecked` first.
 */
export function checkedLookup(policy: EgressPolicy): (hostname: string, options: LookupOptions, callback: LookupCallback) => void {
  return (hostname, options, callback) => {
    resolveChecked(hostname, policy).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        const first = wanted[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`no address of family ${String(options.family)}`), { code: 'ENOTFOUND' }), []);
        } else if (options.all) {
          callback(null, wanted);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, []),
    );
  };
}
