import type http from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import { UpstreamError } from '../../shared/errors/errors.ts';
import { sendBufferedRequest } from './outbound-request.ts';
import { assertLiteralAddressAllowed } from './target-agents.ts';
import { toOutboundFailure } from './target-errors.ts';

/** A CSRF token and the cookies of the session it belongs to, as one `Cookie` header value. */
export type CsrfToken = { token: string; cookies: string };

/** Reduce `Set-Cookie` values to the `name=value` pairs that a `Cookie` header carries. */
export function toCookieHeader(setCookie: readonly string[] | undefined): string {
  if (setCookie === undefined) {
    return '';
  }
  return setCookie
    .map((cookie) => cookie.split(';', 1)[0]!.trim())
    .filter((pair) => pair.includes('='))
    .join('; ');
}

/**
 * Fetch a CSRF token with `X-CSRF-Token: Fetch` and the request's own `Authorization`. The token
 * comes from the `X-CSRF-Token` response header, and the cookies of the response belong with it.
 */
export async function fetchCsrfToken(
  url: URL,
  authorization: OutgoingHttpHeaders['authorization'],
  options: { agent: http.Agent; policy: EgressPolicyConfig; timeoutMs: number },
): Promise<CsrfToken> {
  const headers: OutgoingHttpHeaders = { 'x-csrf-token': 'Fetch', accept: '*/*' };
  if (authorization !== undefined) {
    headers.authorization = authorization;
  }

  let response;
  try {
    assertLiteralAddressAllowed(url, options.policy);
    response = await sendBufferedRequest(url, { method: 'GET', headers, agent: options.agent, timeoutMs: options.timeoutMs });
  } catch (error) {
    throw toOutboundFailure(error, `CSRF token request to ${url.href}`);
  }

  if (response.status < 200 || response.status > 299) {
    throw new UpstreamError(`CSRF token endpoint ${url.href} returned status ${response.status}`);
  }
  const token = response.headers['x-csrf-token'];
  if (typeof token !== 'string' || token === '' || token.toLowerCase() === 'required') {
    throw new UpstreamError(`CSRF token endpoint ${url.href} returned no X-CSRF-Token header`);
  }
  return { token, cookies: toCookieHeader(response.headers['set-cookie']) };
}
