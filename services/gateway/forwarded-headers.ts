import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { RequestParameters } from '../../shared/model/service-record.ts';

/** Hop-by-hop headers of RFC 9110 §7.6.1, plus the legacy `Keep-Alive` and `Proxy-Connection`. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Headers a caller may send to the gateway that are never passed to the target. */
const CALLER_ONLY = new Set(['host', 'x-forwarded-client-cert', 'access-token']);

/**
 * Header names that `Connection` lists, which are hop-by-hop for this message only. Returns
 * undefined for the usual `keep-alive` and `close`, which name no other header.
 */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection?.toLowerCase();
  if (value === undefined || value === 'keep-alive' || value === 'close') {
    return undefined;
  }
  return new Set(value.split(',').map((token) => token.trim()));
}

function isHopByHop(name: string, listed: Set<string> | undefined): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || listed?.has(name) === true;
}

/**
 * Copy the caller's headers for the target, without hop-by-hop headers, `Host`,
 * `X-Forwarded-Client-Cert` and `Access-Token`. `dropAuthorization` removes the caller's
 * `Authorization` when the gateway itself consumed it.
 */
export function toTargetRequestHeaders(incoming: IncomingHttpHeaders, dropAuthorization: boolean): OutgoingHttpHeaders {
  const listed = connectionTokens(incoming);
  const outgoing: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || isHopByHop(name, listed) || CALLER_ONLY.has(name)) {
      continue;
    }
    if (dropAuthorization && name === 'authorization') {
      continue;
    }
    outgoing[name] = value;
  }
  return outgoing;
}

/** Add each registered header that the caller did not send. */
export function addMissingHeaders(headers: OutgoingHttpHeaders, parameters: RequestParameters['headers']): void {
  if (parameters === undefined) {
    return;
  }
  for (const [name, values] of Object.entries(parameters)) {
    const lower = name.toLowerCase();
    if (headers[lower] === undefined && values.length > 0) {
      headers[lower] = values.length === 1 ? values[0] : [...values];
    }
  }
}

/** Copy the target's response headers for the caller, without hop-by-hop headers. */
export function toCallerResponseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionTokens(incoming);
  const outgoing: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value !== undefined && !isHopByHop(name, listed)) {
      outgoing[name] = value;
    }
  }
  return outgoing;
}

/** Merge cookies into a request's `Cookie` header, after the caller's own. */
export function mergeCookies(headers: OutgoingHttpHeaders, cookies: string): void {
  if (cookies === '') {
    return;
  }
  const existing = headers.cookie;
  headers.cookie = typeof existing === 'string' && existing !== '' ? `${existing}; ${cookies}` : cookies;
}
