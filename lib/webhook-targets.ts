/**
 * Where a webhook may be sent. A subscriber names a URL; left unchecked, that URL could point us at our own
 * network (the database, the Temporal frontend, a cloud metadata service at 169.254.169.254): server-side
 * request forgery. So every address a target's host resolves to must be public, unless an operator allowed
 * its network (WEBHOOK_ALLOWED_NETWORKS, CIDRs). Checked when a subscription is made and again on every
 * connection (the address actually dialled), so a name re-pointed at a private address later is refused too.
 */
import { BlockList, isIP } from 'node:net';
import { lookup, type LookupAddress } from 'node:dns';

const PRIVATE_V4 = [
  ['0.0.0.0', 8, '"this network"'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
] as const;
const PRIVATE_V6 = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
  ['::', 96, 'IPv4-compatible'], // deprecated embedding of an IPv4 address
  ['2002::', 16, '6to4'], // carries an IPv4 address inside
  ['64:ff9b::', 96, 'NAT64'], // reaches an IPv4 address through a translator
  ['64:ff9b:1::', 48, 'NAT64'],
  ['2001:db8::', 32, 'documentation'],
] as const;

export class TargetRefused extends Error {}

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:127.0.0.1, also written ::ffff:7f00:1), if any. */
function embeddedIpv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const mapped = new BlockList();
  mapped.addSubnet('::ffff:0:0', 96, 'ipv6');
  if (!mapped.check(address, 'ipv6')) return undefined;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) return dotted[1];
  const [hi, lo] = address
    .split(':')
    .slice(-2)
    .map((g) => parseInt(g || '0', 16));
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** The kind of non-public network an address is in, or undefined for a public one. */
export function privateKind(address: string): string | undefined {
  const ip = embeddedIpv4(address) ?? address; // an IPv4 address written as IPv6 is judged as the IPv4 one
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  for (const [net, prefix, kind] of family === 'ipv4' ? PRIVATE_V4 : PRIVATE_V6) {
    const list = new BlockList();
    list.addSubnet(net, prefix, family);
    if (list.check(ip, family)) return kind;
  }
  return undefined;
}

/** The networks an operator allowed (`10.1.0.0/16,127.0.0.0/8`), as a BlockList to test addresses against. */
export function allowedNetworks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [net, prefix] = c.split('/');
    const family = isIP(net) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(net, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return list;
}

/** Refuses an address in a private network that is not allowed, with what to do about it. */
export function checkAddress(address: string, allowed: BlockList): void {
  const kind = privateKind(address);
  if (!kind) return;
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (allowed.check(address, family)) return;
  throw new TargetRefused(
    `resolves to ${address}, a ${kind} address; webhooks go to public addresses only ` +
      `(an operator may allow a network with WEBHOOK_ALLOWED_NETWORKS)`,
  );
}

/** The URL's scheme and host are fit for a webhook, and every address its host has now is allowed. */
export async function checkTarget(url: string, allowed: BlockList): Promise<void> {
  const u = new URL(url);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TargetRefused('must be an http or https URL');
  if (u.username || u.password) throw new TargetRefused('must not carry a user name or password');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[]>((resolve, reject) =>
        lookup(host, { all: true }, (err, list: LookupAddress[]) =>
          err
            ? reject(new TargetRefused(`host ${host} does not resolve (${err.code})`))
            : resolve(list.map((a) => a.address)),
        ),
      );
  for (const a of addresses) checkAddress(a, allowed);
}

/**
 * A `lookup` for node:http that refuses a private address at the moment of connecting (the address dialled is
 * the one checked, so a DNS answer that changes between check and connect cannot slip through).
 */
export function guardedLookup(allowed: BlockList) {
  return (
    hostname: string,
    options: object,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    lookup(hostname, { ...options, all: true }, (err, list: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      try {
        for (const a of list) checkAddress(a.address, allowed);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 4);
      }
      const wantsAll = (options as { all?: boolean }).all;
      if (wantsAll) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}
