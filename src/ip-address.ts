/**
 * IP addresses as text: one canonical spelling per address (so a per-IP budget cannot be dodged
 * by writing the same address another way), and address ranges for the trusted-proxies list.
 * Socket-free: config validates ranges with it, the transport resolves client addresses with it.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 'ipv4' | 'ipv6';

export interface Ip {
  readonly address: string;
  readonly family: IpFamily;
}

/** An address and prefix length (32 / 128: that address alone). */
export interface IpRange extends Ip {
  readonly prefix: number;
}

const MAPPED_IPV4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The canonical form of an IPv4 or IPv6 address, or null if `text` is not one. IPv6 is compressed
 * and lower-case (uWS reports it uncompressed); an IPv4-mapped IPv6 address (what a dual-stack
 * socket reports for an IPv4 peer) becomes plain IPv4.
 */
export function canonicalIp(text: string): Ip | null {
  if (isIPv4(text)) return { address: text, family: 'ipv4' };
  // The WHATWG URL parser is a well-tested IPv6 serializer; zone ids (`%eth0`) are refused by it.
  if (!isIPv6(text) || !URL.canParse(`http://[${text}]/`)) return null;
  const address = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped) {
    const hi = parseInt(mapped[1] as string, 16);
    const lo = parseInt(mapped[2] as string, 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' };
  }
  return { address, family: 'ipv6' };
}

/** Parses `addr` or `addr/prefix` (IPv4 or IPv6); a string says what is wrong with it. */
export function parseIpRange(entry: string): IpRange | string {
  const slash = entry.indexOf('/');
  const text = slash === -1 ? entry : entry.slice(0, slash);
  const ip = canonicalIp(text);
  if (!ip) return `"${entry}" is not an IP address or CIDR range`;
  const max = ip.family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { ...ip, prefix: max };
  const prefixText = entry.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > max) return `"${entry}": the prefix length must be 0..${max}`;
  // An IPv4-mapped range would be matched as IPv4, where a /96+ prefix means nothing.
  if (ip.family === 'ipv4' && !isIPv4(text)) return `"${entry}": write an IPv4-mapped range as IPv4`;
  return { ...ip, prefix };
}
