/**
 * The client's address behind trusted proxies. Only a peer in the trusted list is believed about
 * who it forwards for; the answer is the right-most hop that is not itself trusted, since every hop
 * left of it was written by someone we do not trust (a client can put anything there). Anything
 * unreadable at the point we need it falls back to the peer: never an error, never a spoof.
 * uWS-free so it can be unit-tested: the transport passes the peer and a way to read headers.
 */
import { BlockList } from 'node:net';
import { canonicalIp, type Ip, type IpRange } from '../ip-address.js';

/** Which header a trusted proxy writes its hops to. */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly none: boolean;

  constructor(
    ranges: readonly IpRange[],
    private readonly header: ForwardedHeader = 'x-forwarded-for',
  ) {
    this.none = ranges.length === 0;
    for (const r of ranges) {
      if (r.prefix === (r.family === 'ipv4' ? 32 : 128)) this.trusted.addAddress(r.address, r.family);
      else this.trusted.addSubnet(r.address, r.prefix, r.family);
    }
  }

  /**
   * The address per-IP limits and logs use. `peer`: the TCP peer; `readProxied()`: the source a
   * PROXY protocol v2 header gave ('' if none); `readHeader(name)`: every line of that request
   * header joined with ',' ('' if absent). Both are only called when the peer is trusted.
   */
  of(peer: string, readProxied: () => string, readHeader: (name: ForwardedHeader) => string): string {
    // No list: the peer as before, without parsing anything.
    if (this.none) return peer;
    const peerIp = canonicalIp(peer);
    if (!peerIp) return peer;
    if (!this.isTrusted(peerIp)) return peerIp.address;
    // The PROXY header's source is the hop nearest to the peer; header hops come before it.
    const hops = splitHops(readHeader(this.header), this.header);
    const proxied = readProxied();
    if (proxied !== '') hops.push(proxied);
    for (let i = hops.length - 1; i >= 0; i--) {
      const ip = hopAddress(hops[i] as string, this.header);
      if (!ip) return peerIp.address;
      if (!this.isTrusted(ip)) return ip.address;
    }
    // Every hop is trusted: the left-most one is as far as anyone we believe has seen.
    const first = hops.length > 0 ? hopAddress(hops[0] as string, this.header) : null;
    return first ? first.address : peerIp.address;
  }

  /** True without trusted proxies: the address is the TCP peer's, whatever the request says. */
  get peerOnly(): boolean {
    return this.none;
  }

  private isTrusted(ip: Ip): boolean {
    return this.trusted.check(ip.address, ip.family);
  }
}

/** The list's entries, left to right (a `Forwarded` element is kept whole: parsed per hop). */
function splitHops(value: string, header: ForwardedHeader): string[] {
  if (value === '') return [];
  if (header === 'x-forwarded-for') return value.split(',');
  // RFC 7239 elements are comma-separated, but a quoted value may hold a comma.
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out;
}

function hopAddress(hop: string, header: ForwardedHeader): Ip | null {
  const node = header === 'x-forwarded-for' ? hop.trim() : forwardedFor(hop);
  return node === null ? null : nodeAddress(node);
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const PAIR = new RegExp(`^\\s*(${TOKEN})=(${TOKEN}|"(?:[^"\\\\]|\\\\.)*")\\s*$`);

/** The `for=` value of one RFC 7239 element (`for=1.2.3.4;proto=https`), unquoted; null if absent or malformed. */
export function forwardedFor(element: string): string | null {
  let found: string | null = null;
  for (const pair of element.split(';')) {
    const m = PAIR.exec(pair);
    if (!m) return null;
    if ((m[1] as string).toLowerCase() !== 'for') continue;
    const raw = m[2] as string;
    found = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return found;
}

/**
 * An address out of a hop: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or
 * `[2001:db8::1]:5678`. `unknown` and obfuscated names (`_hidden`) are no address: null.
 */
export function nodeAddress(node: string): Ip | null {
  if (node.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(node);
    return m ? canonicalIp(m[1] as string) : null;
  }
  const v4Port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(node);
  return canonicalIp(v4Port ? (v4Port[1] as string) : node);
}
