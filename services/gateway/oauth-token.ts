import type http from 'node:http';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import { UpstreamError } from '../../shared/errors/errors.ts';
import type { ApiCredentials } from '../../shared/model/service-record.ts';
import { addMissingHeaders } from './forwarded-headers.ts';
import { sendBufferedRequest } from './outbound-request.ts';
import type { Expiring } from './single-flight-cache.ts';
import { assertLiteralAddressAllowed } from './target-agents.ts';
import { toOutboundFailure } from './target-errors.ts';
import { buildTargetPath, parseTargetBase } from './target-url.ts';

export type OAuthCredentials = NonNullable<ApiCredentials['oauth']>;

/** Maximum number of characters of a token endpoint's error body quoted in a message. */
const QUOTED_ERROR_MAX_CHARS = 200;

/** Encode one value as `application/x-www-form-urlencoded`, so `:` `+` `%` and spaces survive Basic encoding. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * Build the `Authorization` value for client authentication at a token endpoint. RFC 6749 §2.3.1
 * requires the client id and secret to be form-URL-encoded before they are joined with `:` and
 * base64-encoded.
 */
export function toClientBasicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}

/**
 * Decide how long a token stays cached: `expires_in` minus the margin, but at least half of
 * `expires_in` so short-lived tokens are still reused. A token without `expires_in` lives for
 * `ttlWithoutExpiryMs`.
 */
export function tokenLifetimeMs(expiresInSeconds: number | undefined, marginMs: number, ttlWithoutExpiryMs: number): number {
  if (expiresInSeconds === undefined) {
    return ttlWithoutExpiryMs;
  }
  const lifetimeMs = expiresInSeconds * 1000;
  return lifetimeMs - Math.min(marginMs, lifetimeMs / 2);
}

/** Cache key of a token: the same client at the same token URL shares one token. */
export function tokenCacheKey(oauth: OAuthCredentials): string {
  return `${oauth.url}\n${oauth.clientId}`;
}

function readExpiresIn(value: unknown): number | undefined {
  const seconds = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}

function describeErrorBody(body: Buffer): string {
  const text = body.toString('utf8').trim();
  if (text === '') {
    return '';
  }
  return `: ${text.length > QUOTED_ERROR_MAX_CHARS ? `${text.slice(0, QUOTED_ERROR_MAX_CHARS)}…` : text}`;
}

export type TokenRequestOptions = {
  agent: http.Agent;
  policy: EgressPolicyConfig;
  timeoutMs: number;
  marginMs: number;
  ttlWithoutExpiryMs: number;
  now: () => number;
};

/**
 * Request a token with the client credentials grant (RFC 6749 §4.4). The client id and secret go
 * both in the form and as Basic authentication, because token endpoints differ in which they read.
 * The credentials' `requestParameters` are added to the token request.
 */
export async function requestClientCredentialsToken(oauth: OAuthCredentials, options: TokenRequestOptions): Promise<Expiring<string>> {
  const base = parseTargetBase(oauth.url);
  const url = new URL(buildTargetPath(base, '', '', oauth.requestParameters?.queryParameters), base.url);
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
    authorization: toClientBasicAuthorization(oauth.clientId, oauth.clientSecret),
  };
  addMissingHeaders(headers, oauth.requestParameters?.headers);
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: oauth.clientId, client_secret: oauth.clientSecret }).toString();

  let response;
  try {
    assertLiteralAddressAllowed(url, options.policy);
    response = await sendBufferedRequest(url, { method: 'POST', headers, body, agent: options.agent, timeoutMs: options.timeoutMs });
  } catch (error) {
    throw toOutboundFailure(error, `OAuth token request to ${oauth.url}`);
  }

  if (response.status < 200 || response.status > 299) {
    throw new UpstreamError(`OAuth token endpoint ${oauth.url} returned status ${response.status}${describeErrorBody(response.body)}`);
  }
  let parsed: { access_token?: unknown; expires_in?: unknown };
  try {
    parsed = JSON.parse(response.body.toString('utf8')) as typeof parsed;
  } catch (error) {
    throw new UpstreamError(`OAuth token endpoint ${oauth.url} returned a body that is not JSON`, { cause: error });
  }
  if (typeof parsed?.access_token !== 'string' || parsed.access_token === '') {
    throw new UpstreamError(`OAuth token endpoint ${oauth.url} returned no access_token`);
  }

  const lifetimeMs = tokenLifetimeMs(readExpiresIn(parsed.expires_in), options.marginMs, options.ttlWithoutExpiryMs);
  return { value: parsed.access_token, expiresAt: options.now() + lifetimeMs };
}
