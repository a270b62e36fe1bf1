/**
 * The client address behind trusted proxies: only a trusted peer is believed, the right-most
 * untrusted hop wins, and anything unreadable falls back to the peer.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../../src/config.js';
import { canonicalIp, parseIpRange, type IpRange } from '../../src/ip-address.js';
import { ClientAddresses, forwardedFor, nodeAddress, type ForwardedHeader } from '../../src/transport/client-address.js';

const ranges = (...entries: string[]): IpRange[] =>
  entries.map((e) => {
    const r = parseIpRange(e);
    if (typeof r === 'string') throw new Error(r);
    return r;
  });

/** Resolves with `header` holding `value` (and the PROXY v2 source `proxied`). */
function resolver(trusted: string[], header: ForwardedHeader = 'x-forwarded-for') {
  const addresses = new ClientAddresses(ranges(...trusted), header);
  return (peer: string, value: string, proxied = '') => {
    let reads = 0;
    const ip = addresses.of(peer, () => proxied, (name) => {
      reads++;
      return name === header ? value : '';
    });
    return { ip, reads };
  };
}

describe('canonical addresses and ranges', () => {
  it('spells each address one way: IPv6 compressed and lower-case, IPv4-mapped as IPv4', () => {
    expect(canonicalIp('0000:0000:0000:0000:0000:0000:0000:0001')).toEqual({ address: '::1', family: 'ipv6' });
    expect(canonicalIp('2001:DB8:0:0::1')).toEqual({ address: '2001:db8::1', family: 'ipv6' });
    expect(canonicalIp('0000:0000:0000:0000:0000:ffff:7f00:0001')).toEqual({ address: '127.0.0.1', family: 'ipv4' });
    expect(canonicalIp('::ffff:10.1.2.3')).toEqual({ address: '10.1.2.3', family: 'ipv4' });
    for (const bad of ['', 'unknown', '1.2.3', '256.1.1.1', 'fe80::1%eth0', 'example.com', '1.2.3.4 ']) expect(canonicalIp(bad)).toBeNull();
  });

  it('parses addresses and CIDR ranges, and says what is wrong with a bad one', () => {
    expect(parseIpRange('10.0.0.0/8')).toEqual({ address: '10.0.0.0', family: 'ipv4', prefix: 8 });
    expect(parseIpRange('2001:db8::/32')).toEqual({ address: '2001:db8::', family: 'ipv6', prefix: 32 });
    expect(parseIpRange('192.0.2.1')).toEqual({ address: '192.0.2.1', family: 'ipv4', prefix: 32 });
    expect(parseIpRange('10.0.0.0/33')).toMatch(/prefix length must be 0..32/);
    expect(parseIpRange('::/129')).toMatch(/0..128/);
    expect(parseIpRange('10.0.0.0/')).toMatch(/prefix/);
    expect(parseIpRange('proxy.internal')).toMatch(/not an IP address/);
  });

  it('config reports every bad entry at once and keeps the good ones', () => {
    expect(parseConfig({ trustedProxies: ' 10.0.0.0/8, ::1 ,' }).trustedProxies).toEqual(ranges('10.0.0.0/8', '::1'));
    expect(parseConfig({}).trustedProxies).toEqual([]);
    let error: unknown;
    try {
      parseConfig({ trustedProxies: '10.0.0.0/8,nope,1.2.3.4/40', forwardedHeader: 'x-real-ip' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.filter((p) => p.startsWith('trustedProxies (--trusted-proxies / WALKER_HUB_TRUSTED_PROXIES)'))).toHaveLength(2);
    expect(problems.join('\n')).toContain('"nope"');
    expect(problems.join('\n')).toContain('"1.2.3.4/40"');
    expect(problems.join('\n')).toContain('forwardedHeader');
  });
});

describe('X-Forwarded-For', () => {
  it('an untrusted peer is its own address: the header is not even read', () => {
    const of = resolver(['10.0.0.0/8']);
    expect(of('192.0.2.9', '203.0.113.5')).toEqual({ ip: '192.0.2.9', reads: 0 });
  });

  it('no trusted proxies: the peer as reported, nothing parsed', () => {
    const of = resolver([]);
    expect(of('0000:0000:0000:0000:0000:0000:0000:0001', '203.0.113.5')).toEqual({ ip: '0000:0000:0000:0000:0000:0000:0000:0001', reads: 0 });
  });

  it('a trusted peer: the right-most hop that is not trusted, whatever the client wrote to its left', () => {
    const of = resolver(['10.0.0.0/8', '2001:db8:ffff::/48']);
    expect(of('10.0.0.1', '203.0.113.5').ip).toBe('203.0.113.5');
    // The client wrote "1.1.1.1" itself; the proxies appended what they saw.
    expect(of('10.0.0.1', '1.1.1.1, 203.0.113.5, 10.9.9.9').ip).toBe('203.0.113.5');
    expect(of('10.0.0.1', 'garbage, 203.0.113.5').ip).toBe('203.0.113.5');
    expect(of('10.0.0.1', '2001:DB8::0:7, 2001:db8:ffff::2').ip).toBe('2001:db8::7');
    expect(of('10.0.0.1', '[2001:db8::7]:4711').ip).toBe('2001:db8::7');
    expect(of('10.0.0.1', '203.0.113.5:51000').ip).toBe('203.0.113.5');
    expect(of('0000:0000:0000:0000:0000:ffff:0a00:0001', '203.0.113.5').ip).toBe('203.0.113.5');
    expect(of('2001:db8:ffff::1', '::ffff:198.51.100.3').ip).toBe('198.51.100.3');
  });

  it('every hop trusted: the left-most one', () => {
    const of = resolver(['10.0.0.0/8']);
    expect(of('10.0.0.1', '10.1.1.1, 10.2.2.2').ip).toBe('10.1.1.1');
  });

  it('malformed where it matters, or absent: the peer', () => {
    const of = resolver(['10.0.0.0/8']);
    expect(of('10.0.0.1', '').ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', '203.0.113.5, ').ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', 'not-an-address').ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', 'unknown').ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', '203.0.113.5,,'.repeat(1000)).ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', '[::1').ip).toBe('10.0.0.1');
  });

  it('the PROXY v2 source is the hop nearest the peer', () => {
    const of = resolver(['10.0.0.0/8']);
    expect(of('10.0.0.1', '', '203.0.113.5').ip).toBe('203.0.113.5');
    // The PROXY header names a trusted proxy (an nginx behind the load balancer): its header goes on.
    expect(of('10.0.0.1', '198.51.100.3', '10.2.2.2').ip).toBe('198.51.100.3');
    expect(resolver(['10.0.0.0/8'])('192.0.2.9', '', '203.0.113.5').ip).toBe('192.0.2.9');
  });
});

describe('Forwarded (RFC 7239)', () => {
  it('reads for= from each element, quoted or not, with other parameters around it', () => {
    expect(forwardedFor('for=192.0.2.60;proto=http;by=203.0.113.43')).toBe('192.0.2.60');
    expect(forwardedFor(' For="[2001:db8:cafe::17]:4711"')).toBe('[2001:db8:cafe::17]:4711');
    expect(forwardedFor('proto=https')).toBeNull();
    expect(forwardedFor('for=')).toBeNull();
    expect(forwardedFor('for="unterminated')).toBeNull();
    expect(nodeAddress('[2001:db8:cafe::17]:4711')).toEqual({ address: '2001:db8:cafe::17', family: 'ipv6' });
    expect(nodeAddress('_hidden')).toBeNull();
    expect(nodeAddress('unknown')).toBeNull();
  });

  it('the right-most untrusted element; a quoted comma does not split an element', () => {
    const of = resolver(['10.0.0.0/8', '2001:db8:ffff::/48'], 'forwarded');
    expect(of('10.0.0.1', 'for=1.1.1.1, for="[2001:db8::1]:1234";proto=https, for=10.3.3.3').ip).toBe('2001:db8::1');
    expect(of('10.0.0.1', 'for="_a,b", for=198.51.100.3;by="x,y"').ip).toBe('198.51.100.3');
    expect(of('10.0.0.1', 'for="garbage, for=198.51.100.3').ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', 'for=unknown').ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', 'proto=https').ip).toBe('10.0.0.1');
    expect(of('10.0.0.1', 'for="192.0.2.1:80"').ip).toBe('192.0.2.1');
  });

  it('only the configured header is read: X-Forwarded-For from a client is ignored', () => {
    const addresses = new ClientAddresses(ranges('10.0.0.0/8'), 'forwarded');
    expect(addresses.of('10.0.0.1', () => '', (name) => (name === 'forwarded' ? 'for=198.51.100.3' : '6.6.6.6'))).toBe('198.51.100.3');
    expect(addresses.of('10.0.0.1', () => '', (name) => (name === 'forwarded' ? '' : '6.6.6.6'))).toBe('10.0.0.1');
  });
});
