import http, { type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { EgressPolicyConfig } from '../../shared/config/common.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { createEgressLookup } from '../../shared/egress/egress-policy.ts';
import { fetchCsrfToken, type CsrfToken } from './csrf-token.ts';
import { mergeCookies } from './forwarded-headers.ts';
import { requestClientCredentialsToken, tokenCacheKey } from './oauth-token.ts';
import type { PreparedTarget } from './service-directory.ts';
import { SingleFlightCache } from './single-flight-cache.ts';

/** What was put on one request, so a 401 or 403 can drop exactly these tokens before the retry. */
export type AppliedCredentials = {
  oauthToken: string | undefined;
  csrf: CsrfToken | undefined;
};

export type CredentialInjectorOptions = {
  policy: EgressPolicyConfig;
  timeoutMs: number;
  tokenExpiryMarginMs: number;
  tokenTtlWithoutExpiryMs: number;
  log: Logger;
  now?: () => number;
};

/**
 * Puts a service's credentials on outgoing requests: an OAuth bearer token, Basic authentication, or
 * a caller's `Access-Token` in their place, plus a CSRF token with its cookies. A client certificate
 * is not handled here because the target's agent presents it in the TLS handshake.
 */
export class CredentialInjector {
  private readonly tokens: SingleFlightCache<string>;
  private readonly csrfTokens: SingleFlightCache<CsrfToken>;
  private readonly tokenAgents: { http: http.Agent; https: https.Agent };

  constructor(private readonly options: CredentialInjectorOptions) {
    const now = options.now ?? Date.now;
    this.tokens = new SingleFlightCache(now);
    this.csrfTokens = new SingleFlightCache(now);
    const lookup = createEgressLookup(options.policy);
    this.tokenAgents = { http: new http.Agent({ keepAlive: true, lookup }), https: new https.Agent({ keepAlive: true, lookup }) };
  }

  /**
   * Set `Authorization` (and the CSRF header and cookies) on `headers`. An `accessToken` from the
   * caller replaces the configured authentication and skips CSRF, because the cached CSRF session
   * belongs to the configured credentials.
   */
  async apply(target: PreparedTarget, headers: OutgoingHttpHeaders, accessToken: string | undefined): Promise<AppliedCredentials> {
    if (accessToken !== undefined) {
      headers.authorization = accessToken;
      return { oauthToken: undefined, csrf: undefined };
    }

    let oauthToken: string | undefined;
    const { oauth } = target.credentials;
    if (oauth !== undefined) {
      oauthToken = await this.tokens.get(tokenCacheKey(oauth), () => requestClientCredentialsToken(oauth, this.tokenRequestOptions(oauth.url)));
      headers.authorization = `Bearer ${oauthToken}`;
    } else if (target.basicAuthorization !== undefined) {
      headers.authorization = target.basicAuthorization;
    }

    const csrf = target.csrfUrl === undefined ? undefined : await this.fetchCsrf(target, target.csrfUrl, headers.authorization);
    if (csrf !== undefined) {
      headers['x-csrf-token'] = csrf.token;
      mergeCookies(headers, csrf.cookies);
    }
    return { oauthToken, csrf };
  }

  /** Drop the tokens a rejected request used, so the retry fetches fresh ones. */
  invalidate(target: PreparedTarget, applied: AppliedCredentials): void {
    if (applied.oauthToken !== undefined && target.credentials.oauth !== undefined) {
      this.tokens.invalidate(tokenCacheKey(target.credentials.oauth), applied.oauthToken);
    }
    if (applied.csrf !== undefined) {
      this.csrfTokens.invalidate(target.key, applied.csrf);
    }
  }

  /** Drop the CSRF token of a changed or deleted service. */
  forgetService(key: string): void {
    this.csrfTokens.delete(key);
  }

  stop(): void {
    this.tokenAgents.http.destroy();
    this.tokenAgents.https.destroy();
  }

  private fetchCsrf(target: PreparedTarget, url: URL, authorization: OutgoingHttpHeaders['authorization']): Promise<CsrfToken> {
    return this.csrfTokens.get(target.key, async () => {
      const token = await fetchCsrfToken(url, authorization, { agent: target.agent, policy: this.options.policy, timeoutMs: this.options.timeoutMs });
      this.options.log.debug({ app: target.record.application, serviceId: target.record.id }, 'CSRF token fetched');
      // NOTE: a CSRF token is kept until the target rejects it with 403, because the fetch response
      // carries no lifetime. The first request after the target's session expires is retried once.
      return { value: token, expiresAt: Number.POSITIVE_INFINITY };
    });
  }

  private tokenRequestOptions(tokenUrl: string): Parameters<typeof requestClientCredentialsToken>[1] {
    return {
      agent: tokenUrl.startsWith('https:') ? this.tokenAgents.https : this.tokenAgents.http,
      policy: this.options.policy,
      timeoutMs: this.options.timeoutMs,
      marginMs: this.options.tokenExpiryMarginMs,
      ttlWithoutExpiryMs: this.options.tokenTtlWithoutExpiryMs,
      now: this.options.now ?? Date.now,
    };
  }
}
