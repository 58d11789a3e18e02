/**
 * #11 item 4 (SSRF): a tenant's HTTP provider URL or SMTP host must not reach loopback,
 * private, link-local, CGNAT, unique-local, multicast or unspecified addresses — whether
 * written as an address, an IPv4-mapped IPv6 address or a name that resolves there — unless
 * the operator allows it with HERALD_EGRESS_ALLOW. Real servers on 127.0.0.1 prove that a
 * refused target is never connected to, and that an allowed one is.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';

import { describe, expect, it } from 'vitest';

import { makeHttpEmailProviderChannel } from '../../src/channels/http-provider.js';
import { makeInstanceChannels } from '../../src/channels/instance-channels.js';
import type { EmailMessage } from '../../src/channels/types.js';
import { loadConfig } from '../../src/config/load.js';
import { isConfigError, isPermanent } from '../../src/errors.js';
import { egressPolicyOf, parseEgressAllow, refusalOf, STRICT_EGRESS } from '../../src/net/egress.js';
import { sendContext, silentLogger, useCleanups } from '../helpers/channel-test.js';
import { startHttpSink } from '../helpers/http-sink.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const cleanups = useCleanups();

const MAIL: EmailMessage = {
  kind: 'email',
  notificationId: 'n-1',
  instanceId: 'i-1',
  messageType: 'InitCode',
  to: 'alice@example.com',
  subject: 's',
  text: 't',
  html: '<p>h</p>',
};

async function hook() {
  const sink = await startHttpSink();
  cleanups.push(() => sink.close());
  return sink;
}

/** A TCP listener that only counts connections: proves that nothing connected. */
async function counter(): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server: Server = createServer((socket) => {
    n++;
    socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { port: (server.address() as { port: number }).port, connections: () => n };
}

const httpChannel = (endpoint: string, egress = STRICT_EGRESS) =>
  makeHttpEmailProviderChannel({ endpoint, providerId: 'p', description: 'd', logger: silentLogger, egress });

describe('egress rule: which addresses are refused', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.5.5', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['fd12:3456::1', 'unique-local'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
  ])('%s is refused as %s', (address, range) => {
    expect(refusalOf(address, STRICT_EGRESS)).toBe(range);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is allowed', (address) => {
    expect(refusalOf(address, STRICT_EGRESS)).toBeUndefined();
  });

  it('HERALD_EGRESS_ALLOW opens exactly the listed CIDRs, addresses and names', () => {
    const policy = parseEgressAllow('10.20.0.0/16, 127.0.0.1 ,relay.internal').policy;
    expect(refusalOf('10.20.3.4', policy)).toBeUndefined();
    expect(refusalOf('10.21.3.4', policy)).toBe('private');
    expect(refusalOf('127.0.0.1', policy)).toBeUndefined();
    expect(refusalOf('::ffff:127.0.0.1', policy)).toBeUndefined();
    expect(refusalOf('127.0.0.2', policy)).toBe('loopback');
    expect(policy.allowHosts.has('relay.internal')).toBe(true);
  });

  it('loadConfig validates HERALD_EGRESS_ALLOW: a bad CIDR is a configuration error (exit 2)', () => {
    const err = (() => {
      try {
        loadConfig({ HERALD_EGRESS_ALLOW: '10.0.0.0/33,relay.internal' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isConfigError(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/HERALD_EGRESS_ALLOW="10\.0\.0\.0\/33": each entry must be a CIDR/);
    expect(loadConfig({ HERALD_EGRESS_ALLOW: ' 10.0.0.0/8 , relay.internal ' }).egressAllow).toEqual(['10.0.0.0/8', 'relay.internal']);
  });
});

describe('egress rule: tenant HTTP providers', () => {
  it('a provider at 127.0.0.1 is refused naming the egress rule, and nothing is requested', async () => {
    const sink = await hook();
    const err = await httpChannel(sink.url)
      .send(MAIL, sendContext())
      .catch((e: unknown) => e);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(/refused by the egress rule \(loopback address; an operator may allow it with HERALD_EGRESS_ALLOW\)/);
    expect(sink.requests).toHaveLength(0);
  });

  it('a host name that resolves to loopback (localhost) is refused before connecting', async () => {
    const c = await counter();
    const err = await httpChannel(`http://localhost:${c.port}/x`)
      .send(MAIL, sendContext())
      .catch((e: unknown) => e);
    expect(isPermanent(err)).toBe(true);
    expect((err as Error).message).toMatch(/refused by the egress rule \(loopback address/);
    expect(c.connections()).toBe(0);
  });

  it('is allowed with HERALD_EGRESS_ALLOW=127.0.0.1/32 (through loadConfig, as app.ts wires it)', async () => {
    const sink = await hook();
    const cfg = loadConfig({ HERALD_EGRESS_ALLOW: '127.0.0.1/32' });
    await httpChannel(sink.url, egressPolicyOf(cfg.egressAllow)).send(MAIL, sendContext());
    expect(sink.requests).toHaveLength(1);
  });

  it('an allowed host name is reached whatever it resolves to', async () => {
    const sink = await hook();
    const url = sink.url.replace('127.0.0.1', 'localhost');
    await httpChannel(url, parseEgressAllow('localhost').policy).send(MAIL, sendContext());
    expect(sink.requests).toHaveLength(1);
  });
});

describe('egress rule: tenant SMTP hosts', () => {
  const provider = (host: string, port: number) =>
    ({
      kind: 'smtp',
      id: 's',
      description: '',
      host,
      port,
      tls: false,
      user: '',
      password: 'x',
      senderAddress: 'no-reply@tenant.example',
      senderName: '',
      replyToAddress: '',
    }) as const;

  it('an SMTP host on loopback (by address or by name) is refused without a connection', async () => {
    const c = await counter();
    const channels = makeInstanceChannels({ logger: silentLogger });
    cleanups.push(() => channels.close());
    for (const host of ['127.0.0.1', 'localhost', '::ffff:127.0.0.1']) {
      const err = await channels
        .email(`i-${host}`, provider(host, c.port))
        .send(MAIL, sendContext())
        .catch((e: unknown) => e);
      expect(isPermanent(err), host).toBe(true);
      expect((err as Error).message, host).toMatch(/refused by the egress rule \(loopback address/);
    }
    expect(c.connections()).toBe(0);
  });

  it('an allowed SMTP relay is reached, on the checked address', async () => {
    const sink = await startSmtpSink();
    cleanups.push(() => sink.close());
    // localhost may also resolve to ::1: both are allowed, the sink listens on 127.0.0.1.
    const channels = makeInstanceChannels({ logger: silentLogger, egress: parseEgressAllow('127.0.0.1/32,::1/128').policy });
    cleanups.push(() => channels.close());
    await channels.email('i-1', provider('localhost', sink.port)).send(MAIL, sendContext());
    expect((await sink.waitFor(1))[0]?.envelope.to).toEqual(['alice@example.com']);
  });
});
