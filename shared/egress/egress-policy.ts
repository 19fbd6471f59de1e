import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { EgressPolicyConfig } from '../config/common.ts';

/** Kinds of address that outbound calls may not reach unless the policy allows them. */
export const AddressClass = {
  Loopback: 'loopback',
  LinkLocal: 'link-local',
  Private: 'private',
  Metadata: 'metadata',
  Unspecified: 'unspecified',
  Multicast: 'multicast',
  Public: 'public',
} as const;
export type AddressClass = (typeof AddressClass)[keyof typeof AddressClass];

function blockList(ipv4: string[], ipv6: string[]): BlockList {
  const list = new BlockList();
  for (const range of ipv4) {
    const [network, prefix] = range.split('/');
    list.addSubnet(network!, Number(prefix), 'ipv4');
  }
  for (const range of ipv6) {
    const [network, prefix] = range.split('/');
    list.addSubnet(network!, Number(prefix), 'ipv6');
  }
  return list;
}

/** Cloud metadata endpoints (AWS, GCP, Azure, OpenStack; Alibaba; AWS over IPv6). */
const METADATA = blockList(['169.254.169.254/32', '100.100.100.200/32'], ['fd00:ec2::254/128']);
const LOOPBACK = blockList(['127.0.0.0/8'], ['::1/128']);
const UNSPECIFIED = blockList(['0.0.0.0/8'], ['::/128']);
const LINK_LOCAL = blockList(['169.254.0.0/16'], ['fe80::/10']);
const PRIVATE = blockList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'], ['fc00::/7']);
const MULTICAST = blockList(['224.0.0.0/4', '240.0.0.0/4'], ['ff00::/8']);

/** Turn an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) into plain IPv4. */
function unwrapMappedIpv4(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1]! : address;
}

/** Classify an IP address. Metadata addresses are reported as such, although they are also link-local. */
export function classifyAddress(address: string): AddressClass {
  const ip = unwrapMappedIpv4(address);
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (METADATA.check(ip, family)) return AddressClass.Metadata;
  if (LOOPBACK.check(ip, family)) return AddressClass.Loopback;
  if (UNSPECIFIED.check(ip, family)) return AddressClass.Unspecified;
  if (LINK_LOCAL.check(ip, family)) return AddressClass.LinkLocal;
  if (PRIVATE.check(ip, family)) return AddressClass.Private;
  if (MULTICAST.check(ip, family)) return AddressClass.Multicast;
  return AddressClass.Public;
}

/**
 * Decide whether the policy allows `address`. Returns the reason when it does not. Metadata
 * addresses count as link-local, and the unspecified address (which reaches the local host) as
 * loopback. Multicast is never allowed.
 */
export function checkAddress(address: string, policy: EgressPolicyConfig): string | undefined {
  const kind = classifyAddress(address);
  switch (kind) {
    case AddressClass.Public:
      return undefined;
    case AddressClass.Loopback:
    case AddressClass.Unspecified:
      return policy.allowLoopback ? undefined : `${address} is a loopback address`;
    case AddressClass.Metadata:
      return policy.allowLinkLocal ? undefined : `${address} is a cloud metadata address`;
    case AddressClass.LinkLocal:
      return policy.allowLinkLocal ? undefined : `${address} is a link-local address`;
    case AddressClass.Private:
      return policy.allowPrivate ? undefined : `${address} is a private address`;
    case AddressClass.Multicast:
      return `${address} is a multicast address`;
  }
}

/** Strip the brackets of an IPv6 URL host (`[::1]`). */
export function hostOfUrl(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function isAllowedHost(host: string, policy: EgressPolicyConfig): boolean {
  return policy.allowedHosts.some((allowed) => allowed.toLowerCase() === host.toLowerCase());
}

/** Thrown by the egress lookup; `code` lets HTTP clients tell it apart from DNS failures. */
export class EgressDeniedError extends Error {
  readonly code = 'ERR_EGRESS_DENIED';
}

/**
 * Create a `lookup` for `http.request`, `net.connect` and agents that resolves the host and rejects
 * addresses the policy denies. Checking at connect time, on the address actually used, closes the
 * DNS rebinding gap between a separate check and the connection.
 */
export function createEgressLookup(policy: EgressPolicyConfig): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }

      const allowed = isAllowedHost(hostname, policy)
        ? addresses
        : addresses.filter((entry) => checkAddress(entry.address, policy) === undefined);
      if (allowed.length === 0) {
        const reason = addresses.map((entry) => checkAddress(entry.address, policy)).find((text) => text !== undefined);
        callback(new EgressDeniedError(`egress policy denies ${hostname}: ${reason ?? 'no address'}`), '', 0);
        return;
      }

      if (options.all) {
        (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, allowed);
      } else {
        callback(null, allowed[0]!.address, allowed[0]!.family);
      }
    });
  };
}

/**
 * Resolve the URL's host and check every address against the policy. Returns the reason for a
 * denial, or undefined. Use it to validate configuration (sinks, target URLs) with a clear message.
 * Requests must still connect through `createEgressLookup`, because DNS answers can change.
 */
export async function checkUrlEgress(url: URL, policy: EgressPolicyConfig): Promise<string | undefined> {
  const host = hostOfUrl(url);
  if (isAllowedHost(host, policy)) {
    return undefined;
  }
  if (isIP(host)) {
    return checkAddress(host, policy);
  }

  const addresses = await new Promise<LookupAddress[]>((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, result) => (error ? reject(error) : resolve(result)));
  }).catch((error: unknown) => error as Error);
  if (addresses instanceof Error) {
    return `cannot resolve ${host}: ${addresses.message}`;
  }
  for (const { address } of addresses) {
    const reason = checkAddress(address, policy);
    if (reason !== undefined) {
      return `${host} resolves to ${reason.replace(`${address} is`, `${address}, which is`)}`;
    }
  }
  return undefined;
}
