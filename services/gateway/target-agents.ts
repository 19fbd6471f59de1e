import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import { EgressDeniedError, checkAddress, createEgressLookup, hostOfUrl } from '../../shared/egress/egress-policy.ts';

/** Idle keep-alive sockets per agent. More connections may open under load, but only these stay idle. */
const MAX_FREE_SOCKETS = 64;

/** TLS material for one target: a CA bundle replacing the system store, and a client certificate. */
export type TargetTls = { caBundle?: string; certificate?: string; privateKey?: string };

/**
 * Create a keep-alive agent whose connections pass the egress policy. The policy's lookup checks the
 * address a host name resolves to at connect time; `assertLiteralAddressAllowed` covers IP literals,
 * which Node connects to without a lookup.
 */
export function createTargetAgent(protocol: string, policy: EgressPolicyConfig, tls: TargetTls = {}): http.Agent {
  // `noDelay` turns off Nagle's algorithm, which otherwise delays small writes until an ACK arrives.
  const common = { keepAlive: true, noDelay: true, maxFreeSockets: MAX_FREE_SOCKETS, scheduling: 'lifo' as const, lookup: createEgressLookup(policy) };
  if (protocol === 'http:') {
    return new http.Agent(common);
  }
  return new https.Agent({
    ...common,
    ...(tls.caBundle === undefined ? {} : { ca: tls.caBundle }),
    ...(tls.certificate === undefined ? {} : { cert: tls.certificate, key: tls.privateKey }),
    minVersion: 'TLSv1.2',
  });
}

/** Throw `EgressDeniedError` when the URL's host is an IP literal that the policy denies. */
export function assertLiteralAddressAllowed(url: URL, policy: EgressPolicyConfig): void {
  const host = hostOfUrl(url);
  if (isIP(host) === 0 || policy.allowedHosts.some((allowed) => allowed.toLowerCase() === host.toLowerCase())) {
    return;
  }
  const reason = checkAddress(host, policy);
  if (reason !== undefined) {
    throw new EgressDeniedError(`egress policy denies ${host}: ${reason}`);
  }
}
